"""Tune Weaviate's hybrid search on the e-manual dev questions, with 5-fold figures.

Run `benchmarks/retrieval.py --store weaviate` first: it copies the embedded store's
chunks and embeddings into the Weaviate collection this script searches. For every
setting (fusion: relative score or ranked; alpha, Weaviate's vector weight; the BM25F
properties and their boosts; BM25's query, whole or without question words; the weight
of the coherence re-rank by product on the fused candidates) the questions' recall@5 is
measured; then, 5 times, the
best setting on four folds is scored on the fifth, so the reported figure is never
measured on the questions that chose it.

    .venv/bin/python benchmarks/weaviate_tuning.py [--weaviate-url URL]

Results: benchmarks/results/weaviate_tuning.json (every setting's recall@5 on all dev
questions, the chosen setting, the cross-validated recall@5).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._common import cross_validate, machine_summary, write_results  # noqa: E402
from benchmarks.retrieval import WEAVIATE_COLLECTION, ranked_sections  # noqa: E402
from knowledge.components.embedders import build_text_embedder  # noqa: E402
from knowledge.components.lexical_query import lexical_query  # noqa: E402
from knowledge.components.source_coherence import SourceCoherence  # noqa: E402
from knowledge.components.weaviate_hybrid import (  # noqa: E402
    FUSIONS,
    WeaviateHybridSearch,
)
from knowledge.stores import open_weaviate_store  # noqa: E402
from supportbot.settings import Settings  # noqa: E402

ALPHAS = [0.1, 0.15, 0.2, 0.3]
# Searching titles and section paths too was measured worse at every alpha (recall@5
# 0.45-0.67 against 0.70-0.75 on content alone: manuals repeat their headings).
PROPERTIES = {"content": ["content"]}
COHERENCE = [0.0, 1.0, 4.0, 8.0, 16.0, 32.0]
# BM25's side of the query: the question as asked, or without its question and function
# words (knowledge/components/lexical_query.py, as the embedded store searches).
QUERIES: dict[str, Callable[[str], str]] = {"full": lambda q: q, "lexical": lexical_query}
FOLDS = 5


def hit_at_5(ranking: list[str], question: dict) -> bool:
    return bool(set(ranking[:5]) & set(question["gold_doc_ids"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared/eval/emanual")
    parser.add_argument("--weaviate-url", default=os.environ.get("WEAVIATE_URL"))
    args = parser.parse_args()
    if not args.weaviate_url:
        raise SystemExit("needs --weaviate-url or WEAVIATE_URL")
    questions = json.loads((args.eval_dir / "questions_dev.json").read_text(encoding="utf-8"))
    store = open_weaviate_store(args.weaviate_url, collection=WEAVIATE_COLLECTION)
    if not store.count_documents():
        raise SystemExit("run benchmarks/retrieval.py --store weaviate first")

    embedder = build_text_embedder(Settings())
    embedder.warm_up()
    vectors = [embedder.run(text=q["question"])["embedding"] for q in questions]

    hits: dict[str, list[bool]] = {}
    for fusion, alpha, (props_name, props), (query_name, query) in itertools.product(
        FUSIONS, ALPHAS, PROPERTIES.items(), QUERIES.items()
    ):
        search = WeaviateHybridSearch(store, alpha=alpha, fusion=fusion, properties=props)
        found = [
            search.run(query=query(q["question"]), query_embedding=v)["documents"]
            for q, v in zip(questions, vectors, strict=True)
        ]
        for weight in COHERENCE:  # re-ranks what the server returned: no new query
            rerank = SourceCoherence(weight=weight)
            key = f"{fusion}|alpha={alpha}|{props_name}|{query_name}|coherence={weight}"
            hits[key] = [
                hit_at_5(ranked_sections(rerank.run(documents, top_k=50)["documents"]), q)
                for documents, q in zip(found, questions, strict=True)
            ]
            print(f"{key}: recall@5 {sum(hits[key]) / len(questions):.4f}", flush=True)

    held_out, chosen_per_fold = cross_validate(hits, len(questions), FOLDS)
    overall = {k: round(sum(v) / len(questions), 4) for k, v in hits.items()}
    best_overall = max(overall, key=lambda k: (overall[k], k))
    results = {
        "questions": len(questions),
        "settings": overall,
        "chosen_per_fold": chosen_per_fold,
        "best_on_all_dev": best_overall,
        "cross_validated_recall@5": round(sum(held_out) / FOLDS, 4),
        "machine": machine_summary(),
    }
    print(json.dumps({k: v for k, v in results.items() if k != "settings"}, indent=2))
    rows = "\n".join(f"| {k} | {v} |" for k, v in sorted(overall.items(), key=lambda kv: -kv[1]))
    markdown = (
        "# Weaviate hybrid search, tuned on the e-manual dev questions\n\n"
        f"{len(questions)} questions. 5-fold cross-validated recall@5 of the setting chosen "
        f"on the other folds: **{results['cross_validated_recall@5']}**. Chosen per fold: "
        f"{', '.join(sorted(set(chosen_per_fold)))}.\n\n"
        f"| setting | recall@5 (all dev) |\n|---|---|\n{rows}\n\n"
        f"Machine: {machine_summary()}\n"
    )
    write_results("weaviate_tuning", results, markdown)


if __name__ == "__main__":
    main()
