"""Weaviate's own hybrid search (BM25F + vectors, fused by the server), as a component.

weaviate-haystack's `WeaviateHybridRetriever` searches `content` alone with the
server's default fusion, and on every query first fetches the collection's schema (an
HTTP round trip). This component asks for what supportbot's retrieval needs: BM25F over
the properties given (with boosts, `section^2`), the fusion and alpha tuned on the dev
questions (benchmarks/weaviate_tuning.py), and only the properties Documents carry.

Fused scores are relative to the query (here scaled so the best candidate scores 1), so
they say nothing about how good the best candidate is; each candidate's cosine
similarity to the question travels along as `dense_score`, the absolute scale the
answerer judges evidence on (as with the embedded store).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from haystack import Document, component
from haystack_integrations.document_stores.weaviate._filters import convert_filters
from weaviate.classes.query import HybridFusion, MetadataQuery

from knowledge.documents import META_FIELDS
from knowledge.stores.weaviate_store import ConnectingWeaviateDocumentStore

FUSIONS = {"relative_score": HybridFusion.RELATIVE_SCORE, "ranked": HybridFusion.RANKED}
# Chosen on the e-manual dev questions (benchmarks/weaviate_tuning.py, with its 5-fold
# figures), BM25 searching the question without its question words (the retriever's
# LexicalQuery): relative-score fusion, mostly BM25 (alpha is the vectors' weight),
# content only.
ALPHA = 0.2
FUSION = "relative_score"
PROPERTIES = ("content",)
CANDIDATES = 100
RETURNED = ["_original_id", "content", *(field.name for field in META_FIELDS)]


@component
class WeaviateHybridSearch:
    def __init__(
        self,
        document_store: ConnectingWeaviateDocumentStore,
        top_k: int = CANDIDATES,
        alpha: float = ALPHA,
        fusion: str = FUSION,
        properties: tuple[str, ...] | list[str] = PROPERTIES,
    ) -> None:
        self.document_store = document_store
        self.top_k = top_k
        self.alpha = alpha
        self.fusion = FUSIONS[fusion]
        self.properties = list(properties)

    @component.output_types(documents=list[Document])
    def run(
        self,
        query: str,
        query_embedding: list[float],
        filters: dict[str, Any] | None = None,
        top_k: int | None = None,
    ) -> dict[str, list[Document]]:
        def search() -> Any:
            return self.document_store.collection.query.hybrid(
                query=query,
                vector=query_embedding,
                alpha=self.alpha,
                fusion_type=self.fusion,
                query_properties=self.properties,
                filters=convert_filters(filters) if filters else None,
                limit=top_k or self.top_k,
                include_vector=True,
                return_properties=RETURNED,
                return_metadata=MetadataQuery(score=True),
            )

        # Someone is waiting: a dead server is reported within the store's deadline.
        result = self.document_store.interactive(search)
        question = np.asarray(query_embedding, dtype=np.float32)
        question /= np.linalg.norm(question) or 1.0
        # Fused scores are relative to the query (ranked fusion's are ~0.03): scaled so
        # the best is 1, the coherence and update boosts weigh as on the embedded store.
        best = max((found.metadata.score or 0.0 for found in result.objects), default=0.0)
        scale = 1.0 / best if best > 0 else 1.0
        return {"documents": [_document(found, question, scale) for found in result.objects]}


def _document(found: Any, question: np.ndarray, scale: float) -> Document:
    properties = dict(found.properties)
    vector = found.vector.get("default") if isinstance(found.vector, dict) else found.vector
    meta = {
        key: value.isoformat() if hasattr(value, "isoformat") else value  # dates: strings
        for key, value in properties.items()
        if key not in RETURNED[:2] and value is not None  # unset, as in the embedded store
    }
    if vector is not None:
        embedding = np.asarray(vector, dtype=np.float32)
        meta["dense_score"] = float(embedding @ question / (np.linalg.norm(embedding) or 1.0))
    return Document(
        id=properties["_original_id"],
        content=properties.get("content"),
        meta=meta,
        score=(found.metadata.score or 0.0) * scale,
    )
