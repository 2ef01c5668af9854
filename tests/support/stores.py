"""The document stores every store test runs against: the embedded one always, a real
Weaviate server when WEAVIATE_URL points at one (scripts/test.sh starts one)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from haystack.document_stores.types import DocumentStore

from knowledge.stores import PersistentInMemoryDocumentStore, open_weaviate_store

WEAVIATE_URL = os.environ.get("WEAVIATE_URL")


def memory_store(tmp_path: Path) -> DocumentStore:
    return PersistentInMemoryDocumentStore(tmp_path / "store.json")


def weaviate_store(_tmp_path: Path) -> DocumentStore:
    # A fresh collection per test, so cases never see each other's chunks.
    return open_weaviate_store(WEAVIATE_URL, collection=f"Contract{uuid.uuid4().hex[:10]}")


STORES = [
    pytest.param(memory_store, id="memory"),
    pytest.param(
        weaviate_store,
        id="weaviate",
        marks=[
            pytest.mark.weaviate,
            pytest.mark.skipif(
                not WEAVIATE_URL, reason="WEAVIATE_URL is not set: Weaviate contract skipped"
            ),
        ],
    ),
]
