"""Fixtures of the knowledge-base tests: a sync into a fresh embedded store, with the
settings a connector test adds (its service's URL and secrets)."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.stores import open_document_store
from knowledge.sync import KnowledgeSync
from supportbot.settings import Settings


@pytest.fixture
def connector_settings() -> dict[str, object]:
    """Overridden by a connector's tests: the settings pointing at its local service."""
    return {}


@pytest.fixture
def sync(tmp_path: Path, connector_settings: dict[str, object]) -> KnowledgeSync:
    settings = Settings(data_dir=tmp_path, **connector_settings)
    return KnowledgeSync(settings, open_document_store(settings))
