"""Importing Q&A pairs a team already has (an FAQ, a macro library, the shipped sample).

Input is JSON Lines, one `{"question", "answer"}` object per line, optionally with
`product` and `context` (the sources, as the answering prompt shows them). Pairs
without context get the sources the answering pipeline retrieves for their question
today, so training examples look exactly like live prompts. Questions already present
are skipped, so importing the same file twice adds nothing. A bad line is reported
with its number and skipped; the rest are imported. Imported text crosses the privacy
boundary like harvested text (question, answer and sources scrubbed), answers get
citation markers for the sources that state them, and `test=True` puts the pairs in the
frozen evaluation set instead of the training data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from finetune_data.citations import add_citations
from finetune_data.curation import Indexer
from finetune_data.harvest import scrub_related
from finetune_data.history import record as record_event
from finetune_data.scrub import Scrubber, shared_scrubber
from knowledge.scope import Scope
from supportbot.db import session_scope
from supportbot.models import PairOrigin, PairStatus, QAPair, utcnow

SAMPLE_PAIRS = Path(__file__).resolve().parents[1] / "knowledge" / "sample" / "curated_pairs.jsonl"
MAX_CHARS = 8_000

# question, product → the sources the answering prompt would show
Sources = Callable[[str, str | None], list[dict[str, Any]]]


@dataclass
class Record:
    line: int
    question: str
    answer: str
    product: str | None = None
    context: list[dict[str, Any]] | None = None


@dataclass
class ImportReport:
    added: list[int] = field(default_factory=list)
    duplicates: int = 0
    problems: list[str] = field(default_factory=list)


def read_records(path: Path) -> tuple[list[Record], list[str]]:
    records, problems = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as error:
            problems.append(f"line {number}: not JSON ({error.msg})")
            continue
        problem = _problem(data)
        if problem:
            problems.append(f"line {number}: {problem}")
            continue
        records.append(
            Record(
                number,
                data["question"].strip(),
                data["answer"].strip(),
                data.get("product") or None,
                data.get("context"),
            )
        )
    return records, problems


def _problem(data: Any) -> str | None:
    if not isinstance(data, dict):
        return "expected an object with question and answer"
    for key in ("question", "answer"):
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            return f"{key} is missing or empty"
        if len(value) > MAX_CHARS:
            return f"{key} is longer than {MAX_CHARS} characters"
    if data.get("product") is not None and not isinstance(data["product"], str):
        return "product must be text"
    context = data.get("context")
    if context is not None and not (
        isinstance(context, list) and all(isinstance(s, dict) and s.get("text") for s in context)
    ):
        return "context must be a list of sources with text"
    return None


def import_pairs(
    engine: Engine,
    records: list[Record],
    by: str,
    approve: bool = True,
    sources: Sources | None = None,
    index: Indexer | None = None,
    test: bool = False,
) -> ImportReport:
    report = ImportReport()
    scrub = shared_scrubber()
    with Session(engine) as session:
        known = {_key(q) for q in session.exec(select(QAPair.question)).all()}
    for record in records:
        if _key(record.question) in known:
            report.duplicates += 1
            continue
        known.add(_key(record.question))
        context = record.context
        if context is None and sources is not None:
            try:
                context = sources(record.question, record.product)
            except Exception as error:  # the pair is still worth having
                report.problems.append(f"line {record.line}: no sources ({error})")
        pair = _store(engine, record, context or [], by, approve, scrub, test)
        report.added.append(pair.id or 0)
        if approve and index is not None:
            index(pair, True)
    return report


def _store(
    engine: Engine,
    record: Record,
    context: list[dict[str, Any]],
    by: str,
    approve: bool,
    scrub: Scrubber,
    test: bool,
) -> QAPair:
    now = utcnow()
    # Pairs may come from anywhere: scrub them like harvested ones.
    (question, answer), context = scrub_related(scrub, [record.question, record.answer], context)
    with session_scope(engine) as session:
        pair = QAPair(
            question=question or "",
            answer=add_citations(answer or "", context),
            context=context,
            test=test,
            origin=PairOrigin.IMPORTED,
            status=PairStatus.APPROVED if approve else PairStatus.CANDIDATE,
            scope=Scope.of_product(record.product).stored(),
            surface="import",
            decided_by=by if approve else None,
            decided_at=now if approve else None,
        )
        session.add(pair)
        session.flush()
        record_event(session, pair.id or 0, "imported", by, note="approved" if approve else None)
        session.expunge(pair)
    return pair


def _key(question: str) -> str:
    return re.sub(r"\W+", " ", question.casefold()).strip()
