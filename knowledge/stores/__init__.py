"""Document stores behind settings: embedded (`memory`) or Weaviate.

No other code needs to know which one is live: both satisfy Haystack's DocumentStore
protocol, and `persist()` is a no-op for stores that persist by themselves. One module
per backend: `memory` (with its `search_index`) and `weaviate`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from haystack.document_stores.types import DocumentStore

from knowledge.stores.memory import PersistentInMemoryDocumentStore
from knowledge.stores.weaviate import WEAVIATE_COLLECTION, open_weaviate_store
from supportbot.settings import DocumentStoreKind, Settings

__all__ = [
    "WEAVIATE_COLLECTION",
    "PersistentInMemoryDocumentStore",
    "memory_store_path",
    "open_document_store",
    "open_weaviate_store",
    "persist",
    "source_chunks",
]


def memory_store_path(settings: Settings) -> Path:
    return settings.resolved_data_dir / "document_store.json"


def open_document_store(settings: Settings) -> DocumentStore:
    """The document store the settings choose."""
    if settings.document_store is DocumentStoreKind.WEAVIATE:
        return open_weaviate_store(
            settings.weaviate_url,
            settings.weaviate_api_key.get_secret_value() if settings.weaviate_api_key else None,
            collection=settings.weaviate_collection,
            grpc_port=settings.weaviate_grpc_port,
            deadline_s=settings.weaviate_timeout_s,
        )
    return PersistentInMemoryDocumentStore(memory_store_path(settings))


def persist(store: DocumentStore) -> None:
    """Flush the store to durable storage if it needs telling."""
    save = getattr(store, "persist", None)
    if callable(save):
        save()


def source_chunks(
    store: DocumentStore, source: str, fields: tuple[str, ...]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(document id, metadata with at least `fields`) of each chunk of a source, as a
    stream without texts or embeddings where the store can: what a sync compares."""
    listing = getattr(store, "source_chunks", None)
    if callable(listing):
        yield from listing(source, fields)
        return
    for document in store.filter_documents(
        {"field": "meta.source", "operator": "==", "value": source}
    ):
        yield document.id, document.meta
