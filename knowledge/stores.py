"""Document stores behind settings: embedded (`memory`) or Weaviate.

No other code needs to know which one is live: both satisfy Haystack's DocumentStore
protocol, and `persist()` is a no-op for stores that persist by themselves.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from haystack import Document
from haystack.document_stores.in_memory import InMemoryDocumentStore
from haystack.document_stores.types import DocumentStore

from supportbot.settings import DocumentStoreKind, Settings

# BM25+ scored best of Haystack's three BM25 variants on the e-manual dev set
# (benchmarks/retrieval.py); it also never drops a document for a common term.
BM25_ALGORITHM = "BM25Plus"

WEAVIATE_COLLECTION = "SupportbotChunk"

# Explicit schema for our chunk metadata, so Weaviate never guesses types.
WEAVIATE_PROPERTIES: list[dict[str, Any]] = [
    {"name": "_original_id", "dataType": ["text"]},
    {"name": "content", "dataType": ["text"]},
    {"name": "blob_data", "dataType": ["blob"]},
    {"name": "blob_mime_type", "dataType": ["text"]},
    {"name": "score", "dataType": ["number"]},
    {"name": "source", "dataType": ["text"], "tokenization": "field"},
    {"name": "source_id", "dataType": ["text"], "tokenization": "field"},
    {"name": "content_hash", "dataType": ["text"], "tokenization": "field"},
    {"name": "kind", "dataType": ["text"], "tokenization": "field"},
    {"name": "product", "dataType": ["text"], "tokenization": "field"},
    {"name": "tags", "dataType": ["text[]"], "tokenization": "field"},
    {"name": "title", "dataType": ["text"]},
    {"name": "section", "dataType": ["text"]},
    {"name": "url", "dataType": ["text"], "tokenization": "field"},
    {"name": "published_at", "dataType": ["date"]},
    {"name": "chunk_index", "dataType": ["int"]},
    {"name": "page_number", "dataType": ["int"]},
]


class PersistentInMemoryDocumentStore(InMemoryDocumentStore):
    """Haystack's in-memory store, saved to one JSON file so it survives restarts.

    Writes go to memory; `persist()` (called by sync after each source) replaces the
    file atomically, so a crash mid-write never leaves a corrupt store behind.
    """

    def __init__(self, path: Path, **kwargs: Any) -> None:
        super().__init__(bm25_algorithm=BM25_ALGORITHM, **kwargs)
        self.path = path
        if path.is_file():
            with path.open(encoding="utf-8") as handle:
                stored = json.load(handle)
            self.write_documents([Document.from_dict(d) for d in stored["documents"]])

    def persist(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        documents = [doc.to_dict(flatten=False) for doc in self.storage.values()]
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".store-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"format": 1, "documents": documents}, handle)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def memory_store_path(settings: Settings) -> Path:
    return settings.resolved_data_dir / "document_store.json"


def open_document_store(settings: Settings) -> DocumentStore:
    """The document store the settings choose."""
    if settings.document_store is DocumentStoreKind.WEAVIATE:
        return open_weaviate_store(
            settings.weaviate_url,
            settings.weaviate_api_key.get_secret_value() if settings.weaviate_api_key else None,
        )
    return PersistentInMemoryDocumentStore(memory_store_path(settings))


def open_weaviate_store(
    url: str | None, api_key: str | None = None, collection: str = WEAVIATE_COLLECTION
) -> DocumentStore:
    if not url:
        raise ValueError("SUPPORTBOT_WEAVIATE_URL must be set when the document store is weaviate")
    from haystack.utils import Secret
    from haystack_integrations.document_stores.weaviate import (
        AuthApiKey,
        WeaviateDocumentStore,
    )

    return WeaviateDocumentStore(
        url=url,
        auth_client_secret=AuthApiKey(api_key=Secret.from_token(api_key)) if api_key else None,
        collection_settings={
            "class": collection,
            "invertedIndexConfig": {"indexNullState": True, "indexPropertyLength": True},
            "properties": WEAVIATE_PROPERTIES,
        },
    )


def persist(store: DocumentStore) -> None:
    """Flush the store to durable storage if it needs telling."""
    save = getattr(store, "persist", None)
    if callable(save):
        save()
