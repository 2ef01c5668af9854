"""Verified answers in the knowledge base: lead-approved Q&A pairs, retrieved like any
chunk (and cited as "verified answer"). They go in through the same embedding pipeline
as synced documents. The text must already be scrubbed: the privacy boundary is the
caller's (finetune_data.curation), this module only stores what it is given."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from haystack import Document, Pipeline
from haystack.document_stores.types import DocumentStore

from knowledge.documents import DocumentKind
from knowledge.indexing import build_embedding_pipeline
from knowledge.stores import open_document_store, persist
from supportbot.settings import Settings

SOURCE = "verified-answers"


def verified_answer_document(
    pair_id: int | None,
    question: str,
    answer: str,
    product: str | None = None,
    decided_at: datetime | None = None,
) -> Document:
    return Document(
        id=f"verified-answer-{pair_id}",
        content=f"Q: {question}\nA: {answer}",
        meta={
            "source": SOURCE,
            "source_id": f"verified:{pair_id}",
            "content_hash": hashlib.sha256(f"{question}\n{answer}".encode()).hexdigest(),
            "kind": DocumentKind.VERIFIED_ANSWER.value,
            # A pair answered for one product is found by searches scoped to it.
            "product": product,
            "tags": [],
            "title": question[:200],
            "section": "Verified answer",
            "url": None,
            "published_at": decided_at.isoformat() if decided_at else None,
            "chunk_index": 0,
        },
    )


class VerifiedAnswers:
    """Writes and withdraws verified answers in one document store."""

    def __init__(self, settings: Settings, store: DocumentStore | None = None) -> None:
        self.store = store if store is not None else open_document_store(settings)
        self.pipeline: Pipeline = build_embedding_pipeline(settings, self.store)
        self.pipeline.warm_up()

    @property
    def embedder(self) -> Any:
        """The document embedder the pipeline uses (also good for comparing questions)."""
        return self.pipeline.get_component("embedder")

    def put(self, document: Document) -> None:
        """Add or replace one verified answer (same id: the pair's last version wins)."""
        self.pipeline.run({"embedder": {"documents": [document]}})
        persist(self.store)

    def withdraw(self, document_id: str) -> None:
        self.store.delete_documents([document_id])
        persist(self.store)
