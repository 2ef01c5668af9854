"""The document stores every store test runs against: the embedded one always, a real
Weaviate server when WEAVIATE_URL points at one (scripts/test.sh starts one)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from haystack import Document
from haystack.document_stores.types import DocumentStore

from knowledge.stores import PersistentInMemoryDocumentStore, open_weaviate_store
from supportbot.settings import DocumentStoreKind, Settings

WEAVIATE_URL = os.environ.get("WEAVIATE_URL")


def memory_store(tmp_path: Path) -> DocumentStore:
    return PersistentInMemoryDocumentStore(tmp_path / "store.json")


def fresh_collection(prefix: str = "Test") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def store_settings(kind: str, **values: object) -> Settings:
    """Settings on the embedded store, or on the test server's Weaviate in a collection
    of its own (so cases never see each other's chunks)."""
    if kind == "weaviate":
        values.update(
            document_store=DocumentStoreKind.WEAVIATE,
            weaviate_url=WEAVIATE_URL,
            weaviate_collection=fresh_collection(),
        )
    return Settings(**values)


def drop(store: DocumentStore) -> None:
    """Remove a Weaviate test collection (the embedded store lives in tmp_path)."""
    if not isinstance(store, PersistentInMemoryDocumentStore):
        store.client.collections.delete(store.collection.name)
        store.client.close()


def weaviate_store(_tmp_path: Path) -> DocumentStore:
    # A fresh collection per test, so cases never see each other's chunks.
    return open_weaviate_store(WEAVIATE_URL, collection=fresh_collection("Contract"))


# Weaviate cases run where a server is (scripts/test.sh starts one; CI always has it).
WEAVIATE_MARKS = [
    pytest.mark.weaviate,
    pytest.mark.skipif(not WEAVIATE_URL, reason="WEAVIATE_URL is not set: Weaviate cases skipped"),
]

# Fresh stores, for tests that need one store each.
STORES = [
    pytest.param(memory_store, id="memory"),
    pytest.param(weaviate_store, id="weaviate", marks=WEAVIATE_MARKS),
]

# Store kinds, for tests that build their own stores of each kind.
STORE_KINDS = ["memory", pytest.param("weaviate", marks=WEAVIATE_MARKS)]


def chunks_by_item(store: DocumentStore, source: str) -> dict[str, list[Document]]:
    """A source's chunks in the store, by the item (`source_id`) they came from."""
    found: dict[str, list[Document]] = {}
    for document in store.filter_documents(
        {"field": "meta.source", "operator": "==", "value": source}
    ):
        found.setdefault(document.meta["source_id"], []).append(document)
    return found
