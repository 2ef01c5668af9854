"""Incremental sync of real files, a real feed and a real page over local HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from haystack.components.fetchers import LinkContentFetcher
from sqlmodel import select

from knowledge.retrieval import build_retriever, retrieve
from knowledge.sources import SourcesFileError, load_sources
from knowledge.stores import PersistentInMemoryDocumentStore, open_weaviate_store
from knowledge.sync import KnowledgeSync
from supportbot import db
from supportbot.models import SyncRun
from supportbot.settings import Settings
from tests.support.knowledge_fixtures import FEED, PAGE, LocalSite, local_site, write_manuals
from tests.support.stores import STORE_KINDS, WEAVIATE_URL


@pytest.fixture
def site() -> Iterator[LocalSite]:
    with local_site() as running:
        running.serve("/feed.xml", FEED.format(base=running.base), "application/rss+xml")
        running.serve("/status", PAGE)
        yield running


@pytest.fixture
def workspace(tmp_path: Path, site: LocalSite) -> Path:
    write_manuals(tmp_path / "manuals")
    (tmp_path / "sources.yaml").write_text(
        f"""
sources:
  - name: zephyr-manual
    kind: manual
    type: folder
    path: manuals
    product: Zephyr
    tags: [kettle]
    base_url: https://docs.example/zephyr
  - name: zephyr-changelog
    kind: update
    type: feed
    url: {site.base}/feed.xml
    product: Zephyr
  - name: zephyr-status
    kind: update
    type: web
    urls: [{site.base}/status]
""",
        encoding="utf-8",
    )
    return tmp_path


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = db.create_db_engine(f"sqlite:///{tmp_path / 'app.db'}")
    db.upgrade(engine)
    yield engine
    engine.dispose()


MakeSync = Callable[[], tuple[KnowledgeSync, Settings]]


@pytest.fixture(params=STORE_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    """Tests using this run on the embedded store and on a real Weaviate server."""
    return request.param


@pytest.fixture
def make_sync(
    workspace: Path, engine: sa.Engine, store_kind: str
) -> Callable[[], tuple[KnowledgeSync, Settings]]:
    """A new sync (a new process' worth of state) over the same store each call."""
    collection = f"Sync{uuid.uuid4().hex[:10]}"

    def make() -> tuple[KnowledgeSync, Settings]:
        settings = Settings(data_dir=workspace / "data")
        if store_kind == "weaviate":
            store = open_weaviate_store(WEAVIATE_URL, collection=collection)
        else:
            store = PersistentInMemoryDocumentStore(workspace / "data" / "store.json")
        fetcher = LinkContentFetcher(raise_on_failure=True, retry_attempts=0, timeout=5)
        return KnowledgeSync(settings, store, engine=engine, fetcher=fetcher), settings

    return make


def search(syncer: KnowledgeSync, settings: Settings, query: str, top_k: int = 3) -> list:
    return retrieve(build_retriever(settings, syncer.store), query, top_k=top_k)


def by_source_id(syncer: KnowledgeSync) -> dict[str, list]:
    chunks: dict[str, list] = {}
    for document in syncer.store.filter_documents():
        chunks.setdefault(document.meta["source_id"], []).append(document)
    return chunks


def test_first_sync_indexes_every_format_feed_and_page(
    workspace: Path, engine: sa.Engine, site: LocalSite, make_sync: MakeSync
) -> None:
    syncer, _settings = make_sync()
    reports = {r.source: r for r in syncer.sync(load_sources(workspace / "sources.yaml"))}

    assert reports["zephyr-manual"].added == 5
    assert reports["zephyr-changelog"].added == 2
    assert reports["zephyr-status"].added == 1
    assert all(r.failed == 0 for r in reports.values()), [r.errors for r in reports.values()]

    chunks = by_source_id(syncer)
    assert set(chunks) == {
        "zephyr-manual:setup.md",
        "zephyr-manual:troubleshooting.html",
        "zephyr-manual:safety.pdf",
        "zephyr-manual:specs.docx",
        "zephyr-manual:warranty.txt",
        "zephyr-changelog:zephyr-2.0",
        "zephyr-changelog:zephyr-1.9",
        f"zephyr-status:{site.base}/status",
    }
    descaling = next(c for c in chunks["zephyr-manual:setup.md"] if "citric" in c.content)
    assert descaling.meta["section"] == "Setting up the Zephyr kettle > Descaling"
    assert descaling.meta["title"] == "Setting up the Zephyr kettle"
    assert descaling.meta["kind"] == "manual"
    assert descaling.meta["product"] == "Zephyr"
    assert descaling.meta["tags"] == ["kettle"]
    assert descaling.meta["url"] == "https://docs.example/zephyr/setup.md"
    assert len(descaling.meta["content_hash"]) == 64
    assert descaling.embedding is not None

    capacity = next(c for c in chunks["zephyr-manual:specs.docx"] if "1.7 litres" in c.content)
    assert capacity.meta["section"] == "Zephyr specifications > Capacity"
    assert any("immerse" in c.content for c in chunks["zephyr-manual:safety.pdf"])

    release = chunks["zephyr-changelog:zephyr-2.0"][0]
    assert release.meta["kind"] == "update"
    assert release.meta["published_at"].startswith("2025-10-14")
    assert release.meta["url"].endswith("/notes/2.0")
    status = chunks[f"zephyr-status:{site.base}/status"][0]
    assert status.meta["published_at"].startswith("2025-11-02")
    assert status.meta["title"] == "Zephyr status page"

    with db.session_scope(engine) as session:
        runs = session.exec(select(SyncRun)).all()
    assert {run.source: run.added for run in runs} == {
        "zephyr-manual": 5,
        "zephyr-changelog": 2,
        "zephyr-status": 1,
    }
    assert all(run.duration_s is not None for run in runs)


def test_unchanged_resync_embeds_nothing_and_survives_a_restart(
    workspace: Path, engine: sa.Engine, make_sync: MakeSync, store_kind: str
) -> None:
    sources = load_sources(workspace / "sources.yaml")
    first, _ = make_sync()
    first.sync(sources)
    count = first.store.count_documents()

    # A new process: the store comes back from disk.
    second, _ = make_sync()
    assert second.store.count_documents() == count
    store_file = workspace / "data" / "store.json"
    written_at = store_file.stat().st_mtime_ns if store_kind == "memory" else None
    reports = second.sync(sources)
    assert sum(r.chunks_embedded for r in reports) == 0
    assert sum(r.unchanged for r in reports) == 8
    assert second.store.count_documents() == count
    if written_at is not None:
        assert store_file.stat().st_mtime_ns == written_at, "nothing changed, nothing rewritten"


def test_edit_delete_and_break_are_updated_removed_and_reported(
    workspace: Path, engine: sa.Engine, make_sync: MakeSync
) -> None:
    sources = load_sources(workspace / "sources.yaml")
    syncer, settings = make_sync()
    syncer.sync(sources)
    old_warranty = by_source_id(syncer)["zephyr-manual:warranty.txt"]

    manuals = workspace / "manuals"
    (manuals / "setup.md").write_text(
        "# Setting up the Zephyr kettle\n\n## Descaling\n\n"
        "Descale every two weeks with white vinegar.\n",
        encoding="utf-8",
    )
    (manuals / "troubleshooting.html").unlink()
    (manuals / "warranty.txt").write_bytes(b"")  # broken: nothing to extract

    [manual, *_] = syncer.sync(sources)
    assert (manual.added, manual.updated, manual.deleted, manual.failed) == (0, 1, 1, 1)
    assert manual.unchanged == 2
    assert manual.errors[0]["item"] == "zephyr-manual:warranty.txt"
    assert "no text could be extracted" in manual.errors[0]["error"]

    chunks = by_source_id(syncer)
    assert "zephyr-manual:troubleshooting.html" not in chunks
    # The broken item keeps what it had: nothing is lost to a bad file.
    assert [c.id for c in chunks["zephyr-manual:warranty.txt"]] == [c.id for c in old_warranty]
    setup_text = " ".join(c.content for c in chunks["zephyr-manual:setup.md"])
    assert "vinegar" in setup_text
    assert "citric" not in setup_text

    top = search(syncer, settings, "how often should I descale the kettle", top_k=1)[0]
    assert "vinegar" in top.content
    results = search(syncer, settings, "kettle beeps five times thermal fuse", top_k=5)
    assert all("thermal fuse" not in r.content for r in results)


def test_a_dead_feed_changes_nothing_and_is_reported(
    workspace: Path, engine: sa.Engine, site: LocalSite, make_sync: MakeSync
) -> None:
    sources = load_sources(workspace / "sources.yaml")
    syncer, _ = make_sync()
    syncer.sync(sources)
    before = by_source_id(syncer)

    site.serve("/feed.xml", "gone", status=500)
    site.serve("/status", "gone", status=503)
    reports = {r.source: r for r in syncer.sync(sources)}

    assert reports["zephyr-changelog"].failed == 1
    assert "cannot fetch feed" in reports["zephyr-changelog"].errors[0]["error"]
    assert reports["zephyr-status"].failed == 1
    assert reports["zephyr-changelog"].deleted == reports["zephyr-status"].deleted == 0
    assert by_source_id(syncer).keys() == before.keys()


def test_a_feed_entry_that_disappears_loses_its_chunks(
    workspace: Path, engine: sa.Engine, site: LocalSite, make_sync: MakeSync
) -> None:
    sources = load_sources(workspace / "sources.yaml")
    syncer, _ = make_sync()
    syncer.sync(sources)
    feed = FEED.format(base=site.base)
    start = feed.index("<item><title>Zephyr app 1.9")
    site.serve("/feed.xml", feed[:start] + "</channel></rss>", "application/rss+xml")

    reports = {r.source: r for r in syncer.sync(sources)}
    assert reports["zephyr-changelog"].deleted == 1
    assert "zephyr-changelog:zephyr-1.9" not in by_source_id(syncer)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sources: [", "not valid YAML"),
        ("sources:\n  - name: a\n    kind: manual\n    type: folder\n", "needs `path`"),
        ("sources:\n  - name: a\n    kind: faq\n    type: folder\n    path: x\n", "kind"),
        (
            "sources:\n  - {name: a, kind: manual, type: folder, path: x}\n"
            "  - {name: a, kind: update, type: feed, url: 'http://x'}\n",
            "unique",
        ),
    ],
)
def test_invalid_sources_files_are_clear_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourcesFileError, match=message):
        load_sources(path)


def test_a_missing_folder_is_reported_not_fatal(tmp_path: Path, make_sync: MakeSync) -> None:
    (tmp_path / "sources.yaml").write_text(
        "sources:\n  - {name: gone, kind: manual, type: folder, path: nowhere}\n", encoding="utf-8"
    )
    syncer, _ = make_sync()  # tmp_path is the workspace
    [report] = syncer.sync(load_sources(tmp_path / "sources.yaml"))
    assert report.failed == 1
    assert "folder not found" in report.errors[0]["error"]


def test_a_heading_only_document_is_indexed_not_failed(tmp_path: Path, make_sync: MakeSync) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "arc.md").write_text(
        "# Connecting with an HDMI ARC cable\n", encoding="utf-8"
    )
    (tmp_path / "docs" / "empty.md").write_text("   \n", encoding="utf-8")
    (tmp_path / "sources.yaml").write_text(
        "sources:\n  - {name: docs, kind: manual, type: folder, path: docs}\n", encoding="utf-8"
    )
    syncer, _ = make_sync()  # tmp_path is the workspace
    [report] = syncer.sync(load_sources(tmp_path / "sources.yaml"))
    assert (report.added, report.failed) == (1, 1)
    assert report.errors[0]["item"] == "docs:empty.md"
    [chunk] = syncer.store.filter_documents()
    assert chunk.meta["title"] == "Connecting with an HDMI ARC cable"
    assert "HDMI ARC" in chunk.content
