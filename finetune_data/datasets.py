"""Datasets: approved pairs as versioned chat JSONL for supervised fine-tuning.

Each example is the conversation the answering model sees at answer time: the same
system message, the same user message (the pair's retrieved sources rendered with the
answering prompt's template, then the question) and the curated answer as the
assistant's reply. Files go under the data directory, never into the repository.

Pairs in the frozen evaluation set (`test`) are never exported for training: the gate
scores models on them. A dataset that would teach two contradicting answers to the
same question is refused until a lead reconciles them (conflicts.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from haystack.components.builders import ChatPromptBuilder
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from finetune_data.conflicts import contradictions
from knowledge.components.embedders import Embed
from knowledge.prompts import ANSWER_TEMPLATE
from supportbot.db import session_scope
from supportbot.models import Dataset, PairStatus, QAPair, utcnow

VALIDATION_SHARE = 0.1  # of the examples, at least one when there are 10 or more
MIN_EXAMPLES = 10  # OpenAI's minimum for a fine-tuning file
MAX_EXAMPLE_TOKENS = 65_536  # OpenAI's per-example limit (the smallest across models)
ROLES = {"system", "user", "assistant"}
# The answering pipeline's own prompt, so training input is what the model sees live.
_PROMPT = ChatPromptBuilder(template=ANSWER_TEMPLATE, required_variables=["question"])


def example(pair: QAPair) -> dict[str, Any]:
    sources = [
        {**source, "title": source.get("title") or "Untitled"} for source in pair.context or []
    ]
    system, user = _PROMPT.run(question=pair.question, sources=sources)["prompt"]
    return {
        "messages": [
            {"role": "system", "content": system.text},
            {"role": "user", "content": user.text},
            {"role": "assistant", "content": pair.answer},
        ]
    }


def in_validation(pair_id: int, share: float = VALIDATION_SHARE) -> bool:
    """Deterministic split: a pair's side depends only on its id."""
    digest = hashlib.sha256(f"pair-{pair_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


@dataclass
class Export:
    dataset: Dataset
    manifest_path: Path
    problems: list[str]


def export(engine: Engine, data_dir: Path, embed: Embed | None = None) -> Export:
    """Write the approved training pairs; with `embed`, contradicting pairs are refused
    (reported as problems, so training does not start)."""
    with Session(engine) as session:
        pairs = list(
            session.exec(
                select(QAPair)
                .where(QAPair.status == PairStatus.APPROVED, col(QAPair.test).is_(False))
                .order_by(col(QAPair.id))
            ).all()
        )
    contradicting = contradictions(pairs, embed) if embed is not None else []
    train = [p for p in pairs if not in_validation(p.id or 0)]
    valid = [p for p in pairs if in_validation(p.id or 0)]
    if not valid and len(pairs) >= MIN_EXAMPLES:
        valid, train = [train[-1]], train[:-1]  # always hold something out
    version = f"v{_next_number(engine)}-{utcnow():%Y%m%dT%H%M%SZ}"
    folder = data_dir / "datasets" / version
    folder.mkdir(parents=True, exist_ok=False)
    train_path, valid_path = folder / "train.jsonl", folder / "validation.jsonl"
    for path, chosen in ((train_path, train), (valid_path, valid)):
        with path.open("w", encoding="utf-8") as handle:
            for pair in chosen:
                handle.write(json.dumps(example(pair), ensure_ascii=False) + "\n")
    problems = validate_file(train_path) + validate_file(valid_path, minimum=1 if valid else 0)
    problems += [
        f"pairs {first.id} and {second.id} contradict each other ({reason}): edit or reject one"
        for first, second, reason in contradicting
    ]
    manifest = {
        "version": version,
        "created_at": utcnow().isoformat(),
        "format": "openai-chat-jsonl",
        "files": {
            "train": {"path": train_path.name, "examples": len(train), "sha256": _sha(train_path)},
            "validation": {
                "path": valid_path.name,
                "examples": len(valid),
                "sha256": _sha(valid_path),
            },
        },
        "split": {"method": "sha256(pair id)", "validation_share": VALIDATION_SHARE},
        "pair_ids": {"train": [p.id for p in train], "validation": [p.id for p in valid]},
        "problems": problems,
    }
    manifest_path = folder / "manifest.json"
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    with session_scope(engine) as session:
        dataset = Dataset(
            version=version,
            train_path=str(train_path),
            eval_path=str(valid_path),
            train_count=len(train),
            eval_count=len(valid),
            split=manifest["split"] | {"pair_ids": manifest["pair_ids"]},
        )
        session.add(dataset)
        session.flush()
        session.expunge(dataset)
    return Export(dataset, manifest_path, problems)


def _next_number(engine: Engine) -> int:
    with Session(engine) as session:
        return (session.exec(select(func.count()).select_from(Dataset)).one() or 0) + 1


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def validate_file(path: Path, minimum: int = MIN_EXAMPLES) -> list[str]:
    """OpenAI's published checks for chat fine-tuning files; an empty list means valid.

    Format: one JSON object per line with a `messages` list; each message a dict with a
    known `role` and non-empty string `content`, no unknown keys; at least one assistant
    message; at least `minimum` examples; each example within the token limit. Token
    counts are bounded above by UTF-8 bytes (a token is at least one byte), so an example
    that passes here passes OpenAI's tokenizer too.
    """
    problems: list[str] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    if len(lines) < minimum:
        problems.append(f"{path.name}: {len(lines)} examples, at least {minimum} are needed")
    for number, line in enumerate(lines, start=1):
        where = f"{path.name}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            problems.append(f"{where}: not JSON")
            continue
        messages = record.get("messages") if isinstance(record, dict) else None
        if not isinstance(messages, list) or not messages:
            problems.append(f"{where}: missing messages list")
            continue
        for message in messages:
            if not isinstance(message, dict):
                problems.append(f"{where}: a message is not an object")
                continue
            if set(message) - {"role", "content", "name", "weight"}:
                problems.append(f"{where}: unrecognised message keys {sorted(set(message))}")
            if message.get("role") not in ROLES:
                problems.append(f"{where}: unrecognised role {message.get('role')!r}")
            content = message.get("content")
            if not isinstance(content, str) or not content.strip():
                problems.append(f"{where}: empty or non-text content")
        if not any(m.get("role") == "assistant" for m in messages if isinstance(m, dict)):
            problems.append(f"{where}: no assistant message")
        if len(line.encode("utf-8")) > MAX_EXAMPLE_TOKENS:
            problems.append(f"{where}: longer than {MAX_EXAMPLE_TOKENS} tokens")
    return problems
