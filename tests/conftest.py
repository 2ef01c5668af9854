"""Test-wide isolation: no developer settings leak in, nothing reaches a model hub."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HAYSTACK_TELEMETRY_ENABLED"] = "False"


@pytest.fixture(autouse=True)
def isolated_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Run each test in an empty directory with no SUPPORTBOT_* variables set.

    Settings read `.env` from the working directory and the data directory defaults to
    ./data, so an empty working directory keeps a developer's own setup out of tests.
    """
    for name in list(os.environ):
        if name.upper().startswith("SUPPORTBOT_"):
            monkeypatch.delenv(name)
    workdir = tmp_path_factory.mktemp("workdir")
    monkeypatch.chdir(workdir)
    return workdir


@pytest.fixture(scope="session")
def sample_knowledge(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with the sample knowledge synced into the embedded store."""
    from knowledge.sources import SAMPLE_SOURCES_FILE, load_sources
    from knowledge.stores import open_document_store
    from knowledge.sync import KnowledgeSync
    from supportbot.settings import Settings

    data_dir = tmp_path_factory.mktemp("sample-knowledge")
    settings = Settings(data_dir=data_dir)
    store = open_document_store(settings)
    KnowledgeSync(settings, store).sync(load_sources(SAMPLE_SOURCES_FILE))
    return data_dir
