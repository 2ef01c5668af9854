"""Test-wide isolation: no developer settings leak in, nothing reaches a model hub."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before anything imports Haystack or the Hugging Face hub: both read these at import.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HAYSTACK_TELEMETRY_ENABLED"] = "False"

from knowledge.sources import SAMPLE_SOURCES_FILE, load_sources
from knowledge.stores import open_document_store
from knowledge.sync import KnowledgeSync
from supportbot.settings import Settings
from tests.support.stores import drop, store_settings


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

    data_dir = tmp_path_factory.mktemp("sample-knowledge")
    settings = Settings(data_dir=data_dir)
    store = open_document_store(settings)
    KnowledgeSync(settings, store).sync(load_sources(SAMPLE_SOURCES_FILE))
    return data_dir


CAM_MANUAL = """# Nimbus Cam manual

## Resetting the camera

To factory reset the Nimbus Cam, press the pinhole Reset button on its base for
5 seconds with a SIM tool until the ring light blinks orange. The camera forgets its
Wi-Fi network and its recordings stay on the SD card.

## Night vision

The Nimbus Cam switches to infrared night vision automatically in the dark.
"""


@pytest.fixture(scope="session")
def two_products_knowledge(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory whose sources document two products, Nimbus Hub and Nimbus Cam
    (with aliases), synced into the embedded store."""

    data_dir = tmp_path_factory.mktemp("two-products")
    (data_dir / "cam").mkdir()
    (data_dir / "cam" / "manual.md").write_text(CAM_MANUAL, encoding="utf-8")
    hub_manual = SAMPLE_SOURCES_FILE.parent / "manual"
    (data_dir / "sources.yaml").write_text(
        "sources:\n"
        f"  - {{name: hub, kind: manual, type: folder, path: {hub_manual}, product: Nimbus Hub}}\n"
        "  - {name: cam, kind: manual, type: folder, path: cam, product: Nimbus Cam}\n"
        "products:\n"
        "  - {name: Nimbus Cam, aliases: [camera, NC-10]}\n"
        "  - {name: Nimbus Hub, aliases: [hub, NH-200]}\n",
        encoding="utf-8",
    )
    settings = Settings(data_dir=data_dir)
    KnowledgeSync(settings, open_document_store(settings)).sync(
        load_sources(data_dir / "sources.yaml")
    )
    return data_dir


@pytest.fixture(scope="session")
def two_products_in_weaviate(two_products_knowledge: Path) -> Iterator[dict[str, object]]:
    """The same two products synced into a Weaviate collection of their own; yields
    the settings that point at it."""
    settings = store_settings("weaviate", data_dir=two_products_knowledge)
    store = open_document_store(settings)
    KnowledgeSync(settings, store).sync(load_sources(two_products_knowledge / "sources.yaml"))
    yield {
        "document_store": settings.document_store,
        "weaviate_url": settings.weaviate_url,
        "weaviate_collection": settings.weaviate_collection,
    }
    drop(store)
