"""Privacy: what the learning loop lets through, and what the scrubber mangles.

1. The seeded privacy corpus of the tests (tests/support/privacy_corpus.py: personal
   strings of every kind in questions, echoed answers, comments, corrections, lead-typed
   text, imports and stored sources) runs through the whole loop on the sample
   knowledge: harvest, curation, import, export, then clean questions from another
   customer. Counted: seeded strings found in the exported dataset (`pii_exported`) and
   in what another customer can see, verified answers and answers (`pii_cross_customer`).
2. The scrubber runs over every section of the e-manual corpus (`../shared/eval`): a
   section it changes is a false positive, since manuals hold no one's personal data
   (`document_false_positive_rate`).

    .venv/bin/python benchmarks/privacy.py

Results: benchmarks/results/privacy.json and privacy.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._common import machine_summary, write_results  # noqa: E402
from finetune_data.scrub import shared_scrubber  # noqa: E402
from knowledge.components.embedders import sentence_embedder  # noqa: E402
from knowledge.sources import SAMPLE_SOURCES_FILE, load_sources  # noqa: E402
from knowledge.stores import PersistentInMemoryDocumentStore  # noqa: E402
from knowledge.sync import KnowledgeSync  # noqa: E402
from supportbot import db  # noqa: E402
from supportbot.settings import Settings  # noqa: E402
from tests.support.privacy_corpus import CORPUS, run_loop  # noqa: E402


def loop_figures() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder))
        store = PersistentInMemoryDocumentStore(Path(folder) / "store.json")
        KnowledgeSync(settings, store).sync(load_sources(SAMPLE_SOURCES_FILE))
        engine = db.create_db_engine(settings.resolved_database_url)
        db.upgrade(engine)
        seen = run_loop(settings, engine, store, sentence_embedder(settings))
    seeded = {seed.value for seed in CORPUS}
    exported = {seed.value for seed in seen.leaks("exported")}
    crossed = {seed.value for seed in seen.leaks("verified_answers") + seen.leaks("other_answers")}
    return {
        "pii_seeded": len(seeded),
        "pii_seeded_by_kind": dict(Counter(seed.kind for seed in CORPUS)),
        "pii_exported": len(exported),
        "pii_cross_customer": len(crossed),
        "pii_in_logs": len(seen.leaks("logs")),
        "pii_in_curation": len(seen.leaks("curated")),
        "exported_examples": seen.exported.count('"messages"'),
        "verified_answers": seen.verified_answers.count("Q: "),
    }


def false_positive_figures(eval_dir: Path) -> dict[str, object]:
    corpus = json.loads((eval_dir / "corpus.json").read_text(encoding="utf-8"))
    scrub = shared_scrubber()
    started = time.perf_counter()
    changed: Counter[str] = Counter()
    examples = []
    for section in corpus:
        text = f"# {section['title']}\n\n{section['text']}"
        findings = scrub.find(text)
        if findings:
            changed.update(f.kind for f in findings)
            examples.append(
                {"id": section["id"], "found": [(f.kind, text[f.start : f.end]) for f in findings]}
            )
    seconds = time.perf_counter() - started
    return {
        "document_sections": len(corpus),
        "document_sections_changed": len(examples),
        "document_false_positive_rate": round(len(examples) / len(corpus), 5),
        "document_false_positives_by_kind": dict(changed),
        "document_false_positive_examples": examples[:10],
        "scrub_ms_per_section": round(seconds * 1000 / len(corpus), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared/eval/emanual")
    args = parser.parse_args()
    figures = {**loop_figures(), **false_positive_figures(args.eval_dir)}
    figures["machine"] = machine_summary()
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    kinds = ", ".join(f"{k} {v}" for k, v in figures["pii_seeded_by_kind"].items())
    markdown = (
        "# Privacy: the seeded corpus through the learning loop, and the scrubber on manuals\n\n"
        f"{figures['pii_seeded']} seeded personal strings ({kinds}) in questions, echoed "
        "answers, comments, corrections, lead-typed answers and edits, imported pairs and "
        "stored sources; harvested, curated, imported, exported "
        f"({figures['exported_examples']} examples, {figures['verified_answers']} verified "
        "answers), then clean questions from another customer.\n\n"
        "| where | seeded strings found |\n|---|---|\n"
        f"| exported dataset | {figures['pii_exported']} |\n"
        f"| other customers (verified answers, answers) | {figures['pii_cross_customer']} |\n"
        f"| log lines | {figures['pii_in_logs']} |\n"
        f"| pairs and their history | {figures['pii_in_curation']} |\n\n"
        f"Scrubber on the {figures['document_sections']} e-manual sections: "
        f"{figures['document_sections_changed']} changed "
        f"(false-positive rate {figures['document_false_positive_rate']:.4%}), "
        f"{figures['scrub_ms_per_section']} ms per section.\n\n"
        f"Machine: {figures['machine']}\n"
    )
    write_results("privacy", figures, markdown)


if __name__ == "__main__":
    main()
