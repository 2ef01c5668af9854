"""Retrieval latency on the embedded store, or Weaviate, at 10,000 and 100,000 chunks.

Times what one question costs after its embedding is computed: BM25 candidates, vector
candidates, score fusion and the update boost, exactly the components the answering
path runs. Query embedding is timed separately.

    .venv/bin/python benchmarks/latency.py [--store weaviate --weaviate-url URL]

With `--store weaviate` the same chunks go into Weaviate collections (kept between runs)
and the answering path's Weaviate components are timed: its hybrid search (one gRPC
round trip), the source-coherence re-rank and the update boost. Its `weaviate_*`
figures are merged into the same results file.

Chunks come from the retrieval benchmark's index when it exists (real text and
embeddings; run benchmarks/retrieval.py first), else from the e-manual text with random
unit vectors (latency does not depend on what the vectors mean). The 100,000-chunk store
repeats those chunks with perturbed vectors. Results: benchmarks/results/latency.json/.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from haystack import Document  # noqa: E402

from benchmarks._common import (  # noqa: E402
    RESULTS,
    machine_summary,
    weaviate_copy,
    write_results,
)
from knowledge.components.embedders import build_text_embedder  # noqa: E402
from knowledge.components.retriever import WEAVIATE_COHERENCE_WEIGHT  # noqa: E402
from knowledge.components.score_fusion import ScoreFusion  # noqa: E402
from knowledge.components.source_coherence import SourceCoherence  # noqa: E402
from knowledge.components.update_boost import UpdateBoost  # noqa: E402
from knowledge.retrieval import CANDIDATES  # noqa: E402
from knowledge.stores import PersistentInMemoryDocumentStore  # noqa: E402
from supportbot.logs import configure_logging  # noqa: E402
from supportbot.settings import Settings  # noqa: E402


def base_chunks(eval_dir: Path, count: int) -> list[Document]:
    cached = ROOT / "benchmarks/.work/retrieval/store.json"
    if cached.is_file():
        stored = json.loads(cached.read_text(encoding="utf-8"))["documents"]
        return [Document.from_dict(d) for d in stored[:count]]
    corpus = json.loads((eval_dir / "corpus.json").read_text(encoding="utf-8"))
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(len(corpus), 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return [
        Document(
            content=f"# {s['title']}\n{s['text']}",
            embedding=vectors[i].tolist(),
            meta={"source": s["source"], "kind": "manual", "title": s["title"]},
        )
        for i, s in enumerate(corpus[:count])
    ]


def scaled(chunks: list[Document], total: int) -> list[Document]:
    rng = np.random.default_rng(1)
    out = []
    for i in range(total):
        original = chunks[i % len(chunks)]
        vector = np.asarray(original.embedding, dtype=np.float32)
        if i >= len(chunks):
            vector = vector + rng.normal(scale=0.05, size=vector.shape).astype(np.float32)
            vector /= np.linalg.norm(vector)
        out.append(
            Document(
                id=f"{original.id}-{i}",
                content=original.content,
                embedding=vector.tolist(),
                meta=original.meta,
            )
        )
    return out


def percentile(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 2)


def summary(timings: list[float]) -> dict:
    return {
        "p50_ms": percentile(timings, 50),
        "p95_ms": percentile(timings, 95),
        "p99_ms": percentile(timings, 99),
        "mean_ms": round(statistics.mean(timings), 2),
    }


def measure(store: PersistentInMemoryDocumentStore, questions: list[str], vectors: list) -> dict:
    fusion, boost = ScoreFusion(), UpdateBoost()
    store.bm25_retrieval("warm up the index", top_k=1)  # index build is not a query cost
    timings = []
    for question, vector in zip(questions, vectors, strict=True):
        started = time.perf_counter()
        bm25 = store.bm25_retrieval(question, top_k=CANDIDATES)
        dense = store.embedding_retrieval(vector, top_k=CANDIDATES)
        fused = fusion.run(bm25_documents=bm25, embedding_documents=dense, top_k=20)
        boost.run(fused["documents"])
        timings.append((time.perf_counter() - started) * 1000)
    return summary(timings)


def measure_weaviate(store: Any, questions: list[str], vectors: list) -> dict:
    # Loads the Weaviate client's query classes only for this mode.
    from knowledge.components.weaviate_hybrid import WeaviateHybridSearch

    search, boost = WeaviateHybridSearch(store), UpdateBoost()
    coherence = SourceCoherence(weight=WEAVIATE_COHERENCE_WEIGHT)
    search.run(query="warm up", query_embedding=vectors[0])
    timings = []
    for question, vector in zip(questions, vectors, strict=True):
        started = time.perf_counter()
        found = search.run(query=question, query_embedding=vector)["documents"]
        boost.run(coherence.run(found, top_k=20)["documents"])
        timings.append((time.perf_counter() - started) * 1000)
    return summary(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared/eval/emanual")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--store", choices=["memory", "weaviate"], default="memory")
    parser.add_argument("--weaviate-url", default=os.environ.get("WEAVIATE_URL"))
    args = parser.parse_args()
    configure_logging(level="WARNING")

    questions = [
        q["question"]
        for q in json.loads((args.eval_dir / "questions_dev.json").read_text(encoding="utf-8"))
    ]
    embedder = build_text_embedder(Settings())
    embedder.warm_up()
    started = time.perf_counter()
    embed_times = []
    vectors = []
    for question in questions:
        t0 = time.perf_counter()
        vectors.append(embedder.run(question)["embedding"])
        embed_times.append((time.perf_counter() - t0) * 1000)
    print(f"embedded {len(questions)} questions in {time.perf_counter() - started:.1f}s")

    chunks = base_chunks(args.eval_dir, 10_000)
    figures: dict[str, object] = {
        "questions": len(questions),
        "query_embedding_p50_ms": percentile(embed_times, 50),
        "chunk_source": "retrieval benchmark index"
        if chunks[0].meta.get("source_id")
        else "synthetic",
    }
    if args.store == "weaviate":
        if not args.weaviate_url:
            raise SystemExit("--store weaviate needs --weaviate-url or WEAVIATE_URL")
        weaviate_latency(args.weaviate_url, chunks, args.sizes, questions, vectors)
        return
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as scratch:
            store = PersistentInMemoryDocumentStore(Path(scratch) / "store.json")
            store.write_documents(scaled(chunks, size))
            build = time.perf_counter()
            store.bm25_retrieval("build", top_k=1)
            build_s = time.perf_counter() - build
            result = measure(store, questions, vectors)
        label = f"{size // 1000}k"
        print(f"{label}: {result} (index build {build_s:.1f}s)")
        for key, value in result.items():
            figures[f"retrieval_{label}_{key}"] = value
        figures[f"index_build_{label}_s"] = round(build_s, 2)
        rows.append(f"| {size:,} | {result['p50_ms']} | {result['p95_ms']} | {result['p99_ms']} |")
    figures["retrieval_p50_ms"] = figures["retrieval_10k_p50_ms"]
    figures["machine"] = machine_summary()
    markdown = (
        "# Retrieval latency (embedded store)\n\n"
        "BM25 + vector candidates, fusion and update boost for one question, query "
        f"embedding excluded (that takes {figures['query_embedding_p50_ms']} ms median). "
        f"{len(questions)} e-manual dev questions; chunks: {figures['chunk_source']}.\n\n"
        "| chunks | p50 ms | p95 ms | p99 ms |\n|---|---|---|---|\n"
        + "\n".join(rows)
        + f"\n\nMachine: {machine_summary()}\n"
    )
    previous = RESULTS / "latency.json"
    if previous.is_file():  # keep the Weaviate figures of an earlier --store weaviate run
        old = json.loads(previous.read_text(encoding="utf-8"))
        figures.update({k: v for k, v in old.items() if k.startswith("weaviate_")})
    write_results("latency", figures, markdown + weaviate_markdown(figures))


def weaviate_latency(
    url: str, chunks: list[Document], sizes: str, questions: list[str], vectors: list
) -> None:
    figures = json.loads((RESULTS / "latency.json").read_text(encoding="utf-8"))
    markdown = (RESULTS / "latency.md").read_text(encoding="utf-8").split(WEAVIATE_HEADING)[0]
    for size in (int(s) for s in sizes.split(",")):
        store = weaviate_copy(
            url, f"BenchLatency{size // 1000}k", size, lambda n=size: scaled(chunks, n)
        )
        result = measure_weaviate(store, questions, vectors)
        label = f"{size // 1000}k"
        print(f"weaviate {label}: {result}")
        for key, value in result.items():
            figures[f"weaviate_retrieval_{label}_{key}"] = value
        store.client.close()
    figures["weaviate_retrieval_p50_ms"] = figures["weaviate_retrieval_10k_p50_ms"]
    figures["weaviate_machine"] = f"{machine_summary()}; Weaviate {weaviate_version(url)}"
    write_results("latency", figures, markdown.rstrip() + "\n" + weaviate_markdown(figures))


WEAVIATE_HEADING = "## Weaviate"


def weaviate_markdown(figures: dict) -> str:
    sizes = sorted(
        {k.split("_")[2] for k in figures if k.startswith("weaviate_retrieval_") and "k_" in k},
        key=lambda label: int(label.removesuffix("k")),
    )
    if not sizes:
        return ""
    rows = "\n".join(
        f"| {label} | {figures[f'weaviate_retrieval_{label}_p50_ms']} "
        f"| {figures[f'weaviate_retrieval_{label}_p95_ms']} "
        f"| {figures[f'weaviate_retrieval_{label}_p99_ms']} |"
        for label in sizes
    )
    return (
        f"\n{WEAVIATE_HEADING}\n\nThe answering path on Weaviate: its hybrid search (BM25F + "
        "vectors, fused by the server, one gRPC round trip from this process), the "
        "source-coherence re-rank and the update boost; query embedding excluded.\n\n"
        f"| chunks | p50 ms | p95 ms | p99 ms |\n|---|---|---|---|\n{rows}\n\n"
        f"Machine: {figures.get('weaviate_machine', '')}\n"
    )


def weaviate_version(url: str) -> str:
    return str(httpx.get(f"{url}/v1/meta", timeout=5).json().get("version"))


if __name__ == "__main__":
    main()
