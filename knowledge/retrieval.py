"""Retrieval from the knowledge base, for the answering service, `supportbot search` and
the benchmarks: `KnowledgeRetriever` (knowledge/components/retriever.py) run once."""

from __future__ import annotations

from typing import Any

from haystack import Document
from haystack.document_stores.types import DocumentStore

from knowledge.components.retriever import CANDIDATES, KnowledgeRetriever, RetrievalMode
from supportbot.settings import Settings

__all__ = ["CANDIDATES", "KnowledgeRetriever", "RetrievalMode", "build_retriever", "retrieve"]


def build_retriever(
    settings: Settings, store: DocumentStore, mode: RetrievalMode = RetrievalMode.HYBRID
) -> KnowledgeRetriever:
    return KnowledgeRetriever(settings, store, mode)


def retrieve(
    retriever: KnowledgeRetriever,
    query: str,
    top_k: int = 10,
    filters: dict[str, Any] | None = None,
) -> list[Document]:
    """The best `top_k` chunks for `query` within `filters`."""
    documents: list[Document] = retriever.run(query=query, filters=filters, top_k=top_k)[
        "documents"
    ]
    return documents
