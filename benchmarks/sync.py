"""Incremental sync at scale: 10,000 sections synced, re-synced unchanged, then 1% changed.

    .venv/bin/python benchmarks/sync.py [--eval-dir ../shared/eval/emanual] [--sections 10000]

Uses the e-manual corpus as realistic text (one Markdown file per section) and the
project's own `KnowledgeSync` into the embedded store. Results:
benchmarks/results/sync.json and sync.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._common import machine_summary, write_corpus, write_results  # noqa: E402
from knowledge.stores import PersistentInMemoryDocumentStore  # noqa: E402
from knowledge.sync import COUNTS, KnowledgeSync  # noqa: E402
from supportbot.logs import configure_logging  # noqa: E402
from supportbot.settings import Settings  # noqa: E402


def timed_sync(work: Path, sources: list) -> tuple[dict, float]:
    # A new store object each pass, loaded from disk, as a new `supportbot sync` would.
    store = PersistentInMemoryDocumentStore(work / "store.json")
    syncer = KnowledgeSync(Settings(data_dir=work), store)
    started = time.perf_counter()
    reports = syncer.sync(sources)
    seconds = time.perf_counter() - started
    totals = {key: sum(r.counts()[key] for r in reports) for key in COUNTS}
    totals["chunks_in_store"] = store.count_documents()
    return totals, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared/eval/emanual")
    parser.add_argument("--work-dir", type=Path, default=ROOT / "benchmarks/.work/sync")
    parser.add_argument("--sections", type=int, default=10_000)
    parser.add_argument("--changed-fraction", type=float, default=0.01)
    args = parser.parse_args()
    configure_logging(level="WARNING")

    corpus = json.loads((args.eval_dir / "corpus.json").read_text(encoding="utf-8"))
    corpus = corpus[: args.sections]
    shutil.rmtree(args.work_dir, ignore_errors=True)
    sources = write_corpus(corpus, args.work_dir / "corpus")

    full, full_s = timed_sync(args.work_dir, sources)
    print(f"full sync: {full} in {full_s:.1f}s")
    unchanged, unchanged_s = timed_sync(args.work_dir, sources)
    print(f"unchanged re-sync: {unchanged} in {unchanged_s:.1f}s")

    picker = random.Random(7)  # noqa: S311 (a repeatable sample, not a secret)
    changed_sections = picker.sample(corpus, int(len(corpus) * args.changed_fraction))
    for section in changed_sections:
        section["text"] += " (Revised in the latest edition of this manual.)"
    write_corpus(corpus, args.work_dir / "corpus")
    changed, changed_s = timed_sync(args.work_dir, sources)
    print(f"{len(changed_sections)} sections changed: {changed} in {changed_s:.1f}s")

    figures = {
        "sections": len(corpus),
        "full_seconds": round(full_s, 1),
        "full_chunks_embedded": full["chunks_embedded"],
        "unchanged_seconds": round(unchanged_s, 1),
        "unchanged_chunks_embedded": unchanged["chunks_embedded"],
        "changed_sections": len(changed_sections),
        "changed_seconds": round(changed_s, 1),
        "changed_items_updated": changed["updated"],
        "changed_chunks_embedded": changed["chunks_embedded"],
        "chunks_in_store": changed["chunks_in_store"],
        "machine": machine_summary(),
    }
    markdown = (
        "# Incremental sync\n\n"
        f"{len(corpus)} e-manual sections, one Markdown file each, embedded store.\n\n"
        "| pass | items updated | chunks embedded | seconds |\n|---|---|---|---|\n"
        f"| full | {full['added']} added | {full['chunks_embedded']} | {full_s:.1f} |\n"
        f"| unchanged | 0 | {unchanged['chunks_embedded']} | {unchanged_s:.1f} |\n"
        f"| {args.changed_fraction:.0%} changed | {changed['updated']} | "
        f"{changed['chunks_embedded']} | {changed_s:.1f} |\n\n"
        f"Machine: {machine_summary()}\n"
    )
    write_results("sync", figures, markdown)


if __name__ == "__main__":
    main()
