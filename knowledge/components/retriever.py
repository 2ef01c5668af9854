"""The knowledge base's retriever: one typed SuperComponent, whichever store is live.

Inputs `query`, `filters` (Haystack filters, e.g. a `Scope`'s) and `top_k`; output
`documents`, best first. BM25 searches the question without its question and function
words (lexical_query.py); dense search reads it whole. On the embedded store, hybrid
mode runs BM25 and dense search and fuses them (score_fusion.py); on Weaviate the server
fuses BM25F and vectors (weaviate_hybrid.py) and a source-coherence boost re-ranks them.
`bm25` and `dense` modes are there for benchmarks.
"""

from __future__ import annotations

from enum import StrEnum

from haystack import Pipeline, super_component
from haystack.components.retrievers.in_memory import (
    InMemoryBM25Retriever,
    InMemoryEmbeddingRetriever,
)
from haystack.document_stores.in_memory import InMemoryDocumentStore
from haystack.document_stores.types import DocumentStore

from knowledge.components.embedders import build_text_embedder
from knowledge.components.lexical_query import LexicalQuery
from knowledge.components.score_fusion import ScoreFusion
from knowledge.components.source_coherence import SourceCoherence
from knowledge.components.top_k import TopK
from supportbot.settings import Settings

CANDIDATES = 100  # fetched by each retriever before fusion and the final cut
# Tuned on the e-manual dev questions with Weaviate's fusion (benchmarks/weaviate_tuning.py):
# this large a weight on scores scaled to [0, 1] puts the product that dominates the
# top candidates first; within it, the fused score and the update boost decide.
WEAVIATE_COHERENCE_WEIGHT = 16.0

Mapping = dict[str, list[str]]


class RetrievalMode(StrEnum):
    HYBRID = "hybrid"
    BM25 = "bm25"
    DENSE = "dense"


@super_component
class KnowledgeRetriever:
    def __init__(
        self, settings: Settings, store: DocumentStore, mode: RetrievalMode = RetrievalMode.HYBRID
    ) -> None:
        self.pipeline = Pipeline()
        if isinstance(store, InMemoryDocumentStore):
            self.input_mapping, output = self._embedded(settings, store, mode)
        else:
            self.input_mapping, output = self._weaviate(settings, store, mode)
        self.output_mapping = {output: "documents"}

    def _embedded(
        self, settings: Settings, store: InMemoryDocumentStore, mode: RetrievalMode
    ) -> tuple[Mapping, str]:
        pipeline = self.pipeline
        mapping: Mapping = {"query": [], "filters": [], "top_k": []}
        if mode in (RetrievalMode.HYBRID, RetrievalMode.BM25):
            pipeline.add_component("lexical", LexicalQuery())
            pipeline.add_component("bm25", InMemoryBM25Retriever(store, top_k=CANDIDATES))
            pipeline.connect("lexical.query", "bm25.query")
            mapping["query"].append("lexical.query")
            mapping["filters"].append("bm25.filters")
        if mode in (RetrievalMode.HYBRID, RetrievalMode.DENSE):
            pipeline.add_component("query_embedder", build_text_embedder(settings))
            pipeline.add_component("dense", InMemoryEmbeddingRetriever(store, top_k=CANDIDATES))
            pipeline.connect("query_embedder.embedding", "dense.query_embedding")
            mapping["query"].append("query_embedder.text")
            mapping["filters"].append("dense.filters")
        if mode is RetrievalMode.HYBRID:
            # Fusion ranks and cuts itself: one component less to copy documents into.
            pipeline.add_component("fusion", ScoreFusion())
            pipeline.connect("bm25.documents", "fusion.bm25_documents")
            pipeline.connect("dense.documents", "fusion.embedding_documents")
            mapping["top_k"].append("fusion.top_k")
            return mapping, "fusion.documents"
        # One retriever: it returns its best top_k itself.
        last = "bm25" if mode is RetrievalMode.BM25 else "dense"
        mapping["top_k"].append(f"{last}.top_k")
        return mapping, f"{last}.documents"

    def _weaviate(
        self, settings: Settings, store: DocumentStore, mode: RetrievalMode
    ) -> tuple[Mapping, str]:
        # Loads the Weaviate client (~0.7 s) only when that store is chosen.
        from haystack_integrations.components.retrievers.weaviate import (
            WeaviateBM25Retriever,
            WeaviateEmbeddingRetriever,
        )

        from knowledge.components.weaviate_hybrid import WeaviateHybridSearch

        pipeline = self.pipeline
        if mode is RetrievalMode.HYBRID:
            # Weaviate fuses BM25F and vectors server-side; the coherence boost re-ranks
            # the candidates and cuts them to top_k.
            pipeline.add_component("query_embedder", build_text_embedder(settings))
            pipeline.add_component("lexical", LexicalQuery())
            pipeline.add_component("hybrid", WeaviateHybridSearch(store, top_k=CANDIDATES))
            pipeline.connect("lexical.query", "hybrid.query")
            coherence = SourceCoherence(weight=WEAVIATE_COHERENCE_WEIGHT)
            pipeline.add_component("coherence", coherence)
            pipeline.connect("query_embedder.embedding", "hybrid.query_embedding")
            pipeline.connect("hybrid.documents", "coherence.documents")
            hybrid = {
                "query": ["lexical.query", "query_embedder.text"],
                "filters": ["hybrid.filters"],
                "top_k": ["coherence.top_k"],
            }
            return hybrid, "coherence.documents"
        # One retriever (benchmarks): it fetches CANDIDATES and TopK cuts them.
        pipeline.add_component("top_k", TopK())
        cut: Mapping = {"top_k": ["top_k.top_k"]}
        if mode is RetrievalMode.BM25:
            retriever = WeaviateBM25Retriever(document_store=store, top_k=CANDIDATES)
            pipeline.add_component("lexical", LexicalQuery())
            pipeline.add_component("bm25", retriever)
            pipeline.connect("lexical.query", "bm25.query")
            pipeline.connect("bm25.documents", "top_k.documents")
            bm25 = {"query": ["lexical.query"], "filters": ["bm25.filters"], **cut}
            return bm25, "top_k.documents"
        pipeline.add_component("query_embedder", build_text_embedder(settings))
        retriever = WeaviateEmbeddingRetriever(document_store=store, top_k=CANDIDATES)
        pipeline.add_component("dense", retriever)
        pipeline.connect("query_embedder.embedding", "dense.query_embedding")
        pipeline.connect("dense.documents", "top_k.documents")
        dense = {"query": ["query_embedder.text"], "filters": ["dense.filters"], **cut}
        return dense, "top_k.documents"
