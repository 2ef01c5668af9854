"""Retrieval quality on the e-manual evaluation set, through the project's own code.

The corpus (10,048 sections of 34 Samsung manuals) is written out as one Markdown file
per section, one folder source per manual, and indexed by `KnowledgeSync` exactly as
`supportbot sync` would; the questions are then answered by the project's retrieval
pipelines (BM25, dense, hybrid). A retrieved chunk counts for the section its file holds.

    .venv/bin/python benchmarks/retrieval.py [--eval-dir ../shared/eval/emanual]
        [--store weaviate --weaviate-url http://127.0.0.1:8080]

With `--store weaviate` the same chunks, with the same embeddings, are also copied into
a Weaviate collection and searched through the answering path's Weaviate retriever
(Weaviate's own hybrid search, BM25F + vectors fused by the server with the setting
benchmarks/weaviate_tuning.py chose, then the source-coherence re-rank): `weaviate_*`
figures beside the embedded store's. `bash scripts/weaviate.sh start` prints a
WEAVIATE_URL to use.

Results: benchmarks/results/retrieval.json and retrieval.md. The index is kept in
--work-dir (default benchmarks/.work/retrieval) and re-synced incrementally, so a
second run only re-embeds what changed.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from benchmarks._common import (  # noqa: E402
    cross_validate,
    fold_indices,
    machine_summary,
    weaviate_copy,
    write_corpus,
    write_results,
)
from knowledge.answering import (  # noqa: E402
    DEFAULT_ABSTAIN_THRESHOLD,
    SOURCES_IN_PROMPT,
    evidence_score,
)
from knowledge.components.score_fusion import (  # noqa: E402
    BM25_WEIGHT,
    FUSION_COHERENCE_TOP_N,
    FUSION_COHERENCE_WEIGHT,
    ScoreFusion,
)
from knowledge.retrieval import (  # noqa: E402
    CANDIDATES,
    KnowledgeRetriever,
    RetrievalMode,
    build_retriever,
    retrieve,
)
from knowledge.sources import SAMPLE_SOURCES_FILE, load_sources  # noqa: E402
from knowledge.stores import PersistentInMemoryDocumentStore  # noqa: E402
from knowledge.sync import KnowledgeSync  # noqa: E402
from supportbot.logs import configure_logging  # noqa: E402
from supportbot.settings import Settings  # noqa: E402

CHUNKS_PER_QUERY = 50  # chunks fetched before collapsing to sections


def section_of(chunk_meta: dict) -> str:
    file_part = chunk_meta["source_id"].split(":", 1)[1]
    return file_part.removesuffix(".md").replace("__", ":")


def ranked_sections(chunks: list) -> list[str]:
    seen: list[str] = []
    for chunk in chunks:
        section = section_of(chunk.meta)
        if section not in seen:
            seen.append(section)
    return seen


def score(rankings: list[list[str]], questions: list[dict]) -> dict[str, float]:
    def recall(k: int) -> float:
        hits = [
            bool(set(r[:k]) & set(q["gold_doc_ids"]))
            for r, q in zip(rankings, questions, strict=False)
        ]
        return round(sum(hits) / len(hits), 4)

    reciprocal = []
    for ranking, question in zip(rankings, questions, strict=False):
        rank = next(
            (i for i, s in enumerate(ranking[:10], start=1) if s in question["gold_doc_ids"]), None
        )
        reciprocal.append(1 / rank if rank else 0.0)
    return {
        "recall@1": recall(1),
        "recall@5": recall(5),
        "recall@10": recall(10),
        "mrr@10": round(sum(reciprocal) / len(reciprocal), 4),
    }


def rank_scoped(
    retriever: KnowledgeRetriever, questions: list[dict], manual_of: dict[str, str] | None
) -> list[list[str]]:
    """Each question's ranked sections; with `manual_of`, searching only its product's
    manual (the manual of its gold section), as a channel's product setting would."""
    rankings = []
    for question in questions:
        scope = None
        if manual_of is not None:
            product = manual_of[question["gold_doc_ids"][0]]
            scope = {"field": "meta.product", "operator": "==", "value": product}
        chunks = retrieve(retriever, question["question"], top_k=CHUNKS_PER_QUERY, filters=scope)
        rankings.append(ranked_sections(chunks))
    return rankings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared/eval/emanual")
    parser.add_argument("--work-dir", type=Path, default=ROOT / "benchmarks/.work/retrieval")
    parser.add_argument("--questions", default="questions_dev.json")
    parser.add_argument("--limit", type=int, default=None, help="first N questions only")
    parser.add_argument("--store", choices=["memory", "weaviate"], default="memory")
    parser.add_argument("--weaviate-url", default=os.environ.get("WEAVIATE_URL"))
    args = parser.parse_args()
    configure_logging(level="WARNING")

    corpus = json.loads((args.eval_dir / "corpus.json").read_text(encoding="utf-8"))
    questions = json.loads((args.eval_dir / args.questions).read_text(encoding="utf-8"))
    questions = questions[: args.limit] if args.limit else questions

    settings = Settings(data_dir=args.work_dir)
    sources = write_corpus(corpus, args.work_dir / "corpus")
    store = PersistentInMemoryDocumentStore(args.work_dir / "store.json")
    started = time.perf_counter()
    reports = KnowledgeSync(settings, store).sync(sources)
    index_seconds = time.perf_counter() - started
    failed = sum(r.failed for r in reports)
    print(
        f"indexed {len(corpus)} sections into {store.count_documents()} chunks "
        f"({sum(r.chunks_embedded for r in reports)} embedded now, {failed} failed) "
        f"in {index_seconds:.0f}s"
    )

    results: dict[str, object] = {}
    per_mode: dict[str, dict[str, float]] = {}
    evidence: list[float] = []
    for mode in (RetrievalMode.BM25, RetrievalMode.DENSE, RetrievalMode.HYBRID):
        pipeline = build_retriever(settings, store, mode)
        started = time.perf_counter()
        rankings = []
        for question in questions:
            chunks = retrieve(pipeline, question["question"], top_k=CHUNKS_PER_QUERY)
            rankings.append(ranked_sections(chunks))
            if mode is RetrievalMode.HYBRID:
                evidence.append(evidence_score(chunks[:SOURCES_IN_PROMPT]) or 0.0)
        elapsed = time.perf_counter() - started
        if mode is RetrievalMode.HYBRID:
            hybrid_rankings = rankings
        per_mode[mode.value] = {
            **score(rankings, questions),
            "ms_per_query": round(1000 * elapsed / len(questions), 1),
        }
        print(f"{mode.value:>7}: {per_mode[mode.value]}")

    # Scoped: each question searches only its product's manual (the manual of its gold
    # section), as a channel's product setting would scope it.
    manual_of = {section["id"]: section["source"] for section in corpus}
    pipeline = build_retriever(settings, store, RetrievalMode.HYBRID)
    scoped = score(rank_scoped(pipeline, questions, manual_of), questions)
    print(f" scoped: {scoped}")
    for key, value in scoped.items():
        results[f"scoped_{key}"] = value
    results.update(cross_validated(settings, store, questions, manual_of))
    if args.store == "weaviate":
        results.update(weaviate_figures(settings, store, questions, manual_of, args.weaviate_url))

    default = per_mode[RetrievalMode.HYBRID.value]
    results.update({k: v for k, v in default.items() if k != "ms_per_query"})
    results["default_method"] = RetrievalMode.HYBRID.value
    for mode, figures in per_mode.items():
        for key, value in figures.items():
            results[f"{mode}_{key}"] = value
    results.update(
        {
            "questions": len(questions),
            "sections": len(corpus),
            "chunks": store.count_documents(),
            "index_seconds": round(index_seconds, 1),
            "machine": machine_summary(),
        }
    )
    rows = "\n".join(
        f"| {mode} | {f['recall@1']:.3f} | {f['recall@5']:.3f} | {f['recall@10']:.3f} "
        f"| {f['mrr@10']:.3f} | {f['ms_per_query']} |"
        for mode, f in per_mode.items()
    )
    markdown = (
        "# Retrieval on the e-manual dev questions\n\n"
        f"{len(questions)} questions, {len(corpus)} sections ({store.count_documents()} chunks), "
        "indexed and searched through supportbot's own pipelines. Default: hybrid.\n\n"
        "| method | R@1 | R@5 | R@10 | MRR@10 | ms/query |\n|---|---|---|---|---|---|\n"
        f"{rows}\n\nScoped to the question's product manual (hybrid): R@1 "
        f"{scoped['recall@1']:.3f}, R@5 {scoped['recall@5']:.3f}, R@10 {scoped['recall@10']:.3f}, "
        f"MRR@10 {scoped['mrr@10']:.3f}.\n\n"
        "5-fold cross-validated (the fusion setting chosen on four folds, scored on the "
        f"fifth): R@5 {results['recall@5_5fold_mean']}, scoped R@5 "
        f"{results['scoped_recall@5_5fold_mean']}.\n\n{weaviate_markdown(results)}"
        f"Machine: {machine_summary()}\n"
    )
    write_results("retrieval", results, markdown)
    report_abstention(hybrid_rankings, evidence, questions, off_topic_evidence(args.work_dir))


# The fusion settings the 5-fold figures choose among (the shipped one included).
FUSION_GRID = {
    "bm25_weight": [0.6, 0.7, 0.8, 0.9],
    "coherence_weight": [0.0, 1.0, 2.0, 4.0],
    "coherence_top_n": [30, 50],
}
FOLDS = 5


def cross_validated(
    settings: Settings,
    store: PersistentInMemoryDocumentStore,
    questions: list[dict],
    manual_of: dict[str, str],
) -> dict[str, object]:
    """5-fold figures for the hybrid fusion: on each fold, the grid setting with the most
    recall@5 hits (unscoped and scoped together) on the other four folds, scored on the
    held-out fold. Their means say whether the shipped setting's figures generalise."""
    bm25 = build_retriever(settings, store, RetrievalMode.BM25)
    dense = build_retriever(settings, store, RetrievalMode.DENSE)
    candidates = {}
    for label, scoped in (("", False), ("scoped_", True)):
        found = []
        for question in questions:
            product = manual_of[question["gold_doc_ids"][0]]
            scope = {"field": "meta.product", "operator": "==", "value": product}
            scope = scope if scoped else None
            found.append(
                (
                    retrieve(bm25, question["question"], top_k=CANDIDATES, filters=scope),
                    retrieve(dense, question["question"], top_k=CANDIDATES, filters=scope),
                )
            )
        candidates[label] = found
    hits: dict[str, dict[str, list[bool]]] = {"": {}, "scoped_": {}}
    names = list(FUSION_GRID)
    for values in itertools.product(*FUSION_GRID.values()):
        fusion = ScoreFusion(**dict(zip(names, values, strict=True)))
        key = "|".join(f"{name}={value}" for name, value in zip(names, values, strict=True))
        for label, found in candidates.items():
            hits[label][key] = [
                bool(
                    set(
                        ranked_sections(
                            fusion.run(bm25_documents=b, embedding_documents=d, top_k=50)[
                                "documents"
                            ]
                        )[:5]
                    )
                    & set(question["gold_doc_ids"])
                )
                for (b, d), question in zip(found, questions, strict=True)
            ]
    both = {
        key: [int(a) + int(b) for a, b in zip(hits[""][key], hits["scoped_"][key], strict=True)]
        for key in hits[""]
    }
    shipped = (
        f"bm25_weight={BM25_WEIGHT}|coherence_weight={FUSION_COHERENCE_WEIGHT}"
        f"|coherence_top_n={FUSION_COHERENCE_TOP_N}"
    )
    figures: dict[str, object] = {}
    # Selection on both figures at once: one setting ships for scoped and unscoped use.
    _, chosen = cross_validate(both, len(questions), FOLDS)
    for label in hits:
        held_out = _held_out(hits[label], chosen, len(questions))
        figures[f"{label}recall@5_5fold_mean"] = round(sum(held_out) / FOLDS, 4)
        figures[f"{label}recall@5_5fold"] = [round(x, 4) for x in held_out]
        figures[f"{label}recall@5_shipped_setting"] = round(
            sum(hits[label][shipped]) / len(questions), 4
        )
    figures["fusion_chosen_per_fold"] = chosen
    print(f"5-fold: {figures}")
    return figures


def _held_out(hits: dict[str, list[bool]], chosen: list[str], questions: int) -> list[float]:
    """Each fold's held-out recall for the setting chosen on the other folds."""
    return [
        sum(hits[setting][i] for i in fold) / len(fold)
        for fold, setting in zip(fold_indices(questions, FOLDS), chosen, strict=True)
    ]


WEAVIATE_COLLECTION = "BenchRetrieval"


def weaviate_figures(
    settings: Settings,
    store: PersistentInMemoryDocumentStore,
    questions: list[dict],
    manual_of: dict[str, str],
    url: str | None,
) -> dict[str, object]:
    """The hybrid figures, unscoped and scoped, on a Weaviate copy of the same chunks."""
    if not url:
        raise SystemExit("--store weaviate needs --weaviate-url or WEAVIATE_URL")
    target = weaviate_copy(
        url, WEAVIATE_COLLECTION, store.count_documents(), store.filter_documents
    )
    retriever = build_retriever(settings, target, RetrievalMode.HYBRID)
    figures: dict[str, object] = {}
    for label, scoped_to in (("", None), ("scoped_", manual_of)):
        started = time.perf_counter()
        rankings = rank_scoped(retriever, questions, scoped_to)
        elapsed = time.perf_counter() - started
        found = score(rankings, questions)
        print(f"weaviate {label or 'unscoped_'}: {found}")
        figures.update({f"weaviate_{label}{key}": value for key, value in found.items()})
        figures[f"weaviate_{label}ms_per_query"] = round(1000 * elapsed / len(questions), 1)
    return figures


def weaviate_markdown(results: dict[str, object]) -> str:
    if "weaviate_recall@5" not in results:
        return ""
    return (
        "Weaviate (its own hybrid search, relative-score fusion, then the source-coherence "
        "re-rank, on the same chunks and embeddings): R@1 "
        f"{results['weaviate_recall@1']}, R@5 {results['weaviate_recall@5']}, R@10 "
        f"{results['weaviate_recall@10']}, MRR@10 {results['weaviate_mrr@10']}; scoped R@5 "
        f"{results['weaviate_scoped_recall@5']}; "
        f"{results['weaviate_ms_per_query']} ms/query.\n\n"
    )


# Questions no support knowledge base should answer, asked of the shipped sample (a
# smart-home hub's docs). Written for this benchmark; generic, not tuned to any corpus.
OFF_TOPIC = [
    "What is the capital of France?",
    "Who won the football world cup in 2018?",
    "How do I bake sourdough bread at home?",
    "What is the boiling point of water on Mount Everest?",
    "Can you recommend a good Italian restaurant nearby?",
    "How do I file my taxes online?",
    "What is the meaning of life?",
    "Translate 'good morning' into Japanese.",
    "How tall is the Eiffel Tower?",
    "Write me a poem about autumn leaves.",
    "What's the weather like tomorrow in Berlin?",
    "How many calories are in a banana?",
]


def off_topic_evidence(work_dir: Path) -> list[float]:
    sample_dir = work_dir / "sample"
    store = PersistentInMemoryDocumentStore(sample_dir / "store.json")
    settings = Settings(data_dir=sample_dir)
    KnowledgeSync(settings, store).sync(load_sources(SAMPLE_SOURCES_FILE))
    pipeline = build_retriever(settings, store)
    return [
        evidence_score(retrieve(pipeline, q, top_k=SOURCES_IN_PROMPT)) or 0.0 for q in OFF_TOPIC
    ]


def report_abstention(
    rankings: list[list[str]], evidence: list[float], questions: list[dict], off_topic: list[float]
) -> None:
    """Answered share and Recall@5 among answered questions, per abstain threshold, and
    how many off-topic questions the sample knowledge base refuses.

    Every dev question has an answer in the corpus, so an abstention there is a lost
    answer; an off-topic question that is answered is an invented one.
    """
    figures: dict[str, object] = {"default_threshold": DEFAULT_ABSTAIN_THRESHOLD}
    rows = []
    thresholds = sorted({0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, DEFAULT_ABSTAIN_THRESHOLD})
    for threshold in thresholds:
        kept = [i for i, e in enumerate(evidence) if e >= threshold]
        answered = len(kept) / len(questions)
        recall = (
            score([rankings[i] for i in kept], [questions[i] for i in kept])["recall@5"]
            if kept
            else 0.0
        )
        abstained = [i for i in range(len(questions)) if i not in set(kept)]
        recall_abstained = (
            score([rankings[i] for i in abstained], [questions[i] for i in abstained])["recall@5"]
            if abstained
            else None
        )
        key = f"{threshold:.2f}"
        refused = sum(e < threshold for e in off_topic) / len(off_topic)
        figures[f"off_topic_abstained@{key}"] = round(refused, 4)
        figures[f"answered_share@{key}"] = round(answered, 4)
        figures[f"recall@5_answered@{key}"] = recall
        figures[f"recall@5_abstained@{key}"] = recall_abstained
        marker = " (default)" if threshold == DEFAULT_ABSTAIN_THRESHOLD else ""
        rows.append(
            f"| {key}{marker} | {answered:.1%} | {1 - answered:.1%} | {recall:.3f} | "
            f"{recall_abstained if recall_abstained is not None else '-'} | {refused:.0%} |"
        )
    default = f"{DEFAULT_ABSTAIN_THRESHOLD:.2f}"
    figures["answered_share"] = figures[f"answered_share@{default}"]
    figures["abstained_share"] = round(1 - float(figures["answered_share"]), 4)
    figures["recall@5_answered"] = figures[f"recall@5_answered@{default}"]
    figures["off_topic_abstained"] = figures[f"off_topic_abstained@{default}"]
    figures["off_topic_max_evidence"] = round(max(off_topic), 4)
    figures["dev_min_evidence"] = round(min(evidence), 4)
    figures["machine"] = machine_summary()
    markdown = (
        "# Abstaining on weak evidence\n\n"
        "Evidence is the best cosine similarity between the question and the top "
        f"{SOURCES_IN_PROMPT} retrieved chunks; below the threshold the bot says it does not "
        "know and hands over. Answered/abstained: the e-manual dev questions (all "
        f"answerable). Off-topic refused: {len(OFF_TOPIC)} general questions asked of the "
        "shipped sample knowledge (a smart-home hub's docs).\n\n"
        "| threshold | answered | abstained | Recall@5 answered | Recall@5 abstained "
        "| off-topic refused |\n|---|---|---|---|---|---|\n"
        + "\n".join(rows)
        + "\n\nThe dev set's weakest evidence is "
        f"{min(evidence):.3f}; the strongest off-topic evidence is {max(off_topic):.3f}. "
        "Note that this signal does not predict retrieval misses within the manuals "
        "(Recall@5 among abstained dev questions is no lower); it separates questions the "
        "knowledge base is not about.\n\n"
        f"Machine: {machine_summary()}\n"
    )
    write_results("abstain", figures, markdown)


if __name__ == "__main__":
    main()
