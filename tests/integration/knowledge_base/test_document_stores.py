"""One contract for every document store: the embedded one always, Weaviate when reachable.

Set WEAVIATE_URL (e.g. http://localhost:8080) to run the suite against a Weaviate server;
otherwise its cases are skipped with that reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
from haystack import Document
from haystack.document_stores.in_memory import InMemoryDocumentStore
from haystack.document_stores.types import DocumentStore, DuplicatePolicy

from knowledge.components.embedders import build_document_embedder, build_text_embedder
from knowledge.retrieval import RetrievalMode, build_retriever, retrieve
from knowledge.sources import SAMPLE_SOURCES_FILE, load_sources
from knowledge.stores import (
    PersistentInMemoryDocumentStore,
    open_weaviate_store,
    persist,
    source_chunks,
)
from knowledge.stores.search_index import bm25_text
from knowledge.stores.weaviate import WEAVIATE_PROPERTIES
from knowledge.sync import SYNC_FIELDS, KnowledgeSync
from supportbot.settings import Settings
from tests.support.app_server import free_port
from tests.support.stores import STORES, WEAVIATE_URL, drop, fresh_collection, memory_store

CHUNKS = [
    ("router:reset", "Router X1", "Reset", "Hold the reset button for ten seconds.", "Router X1"),
    ("router:wifi", "Router X1", "Wi-Fi", "Join the 5 GHz band for faster Wi-Fi.", "Router X1"),
    ("kettle:descale", "Kettle", "Descaling", "Descale the kettle with citric acid.", "Kettle"),
]


@pytest.fixture(scope="module")
def embedded_chunks() -> list[Document]:
    documents = [
        Document(
            id=f"chunk-{i}",
            content=content,
            meta={
                "source": source_id.split(":")[0],
                "source_id": source_id,
                "content_hash": f"hash-{i}",
                "kind": "manual",
                "product": product,
                "tags": ["demo"],
                "title": title,
                "section": section,
                "url": f"https://docs.example/{source_id}",
                "published_at": None,
                "chunk_index": 0,
            },
        )
        for i, (source_id, title, section, content, product) in enumerate(CHUNKS)
    ]
    embedder = build_document_embedder(Settings())
    embedder.warm_up()
    return embedder.run(documents)["documents"]


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DocumentStore]:
    factory: Callable[[Path], DocumentStore] = request.param
    opened = factory(tmp_path)
    yield opened
    if not isinstance(opened, PersistentInMemoryDocumentStore):  # drop the scratch collection
        opened.client.collections.delete(opened.collection.name)
        opened.client.close()


def test_write_count_filter_and_delete(
    store: DocumentStore, embedded_chunks: list[Document]
) -> None:
    assert store.write_documents(embedded_chunks, policy=DuplicatePolicy.OVERWRITE) == 3
    assert store.count_documents() == 3
    router = store.filter_documents({"field": "meta.source", "operator": "==", "value": "router"})
    assert sorted(d.meta["source_id"] for d in router) == ["router:reset", "router:wifi"]
    assert router[0].meta["content_hash"].startswith("hash-")
    store.delete_documents([d.id for d in router])
    assert [d.meta["source_id"] for d in store.filter_documents()] == ["kettle:descale"]


def test_a_sources_chunks_are_listed_with_their_sync_metadata_only(
    store: DocumentStore, embedded_chunks: list[Document]
) -> None:
    store.write_documents(embedded_chunks, policy=DuplicatePolicy.OVERWRITE)
    listed = dict(source_chunks(store, "router", SYNC_FIELDS))
    assert sorted(listed) == ["chunk-0", "chunk-1"]
    assert listed["chunk-0"]["source_id"] == "router:reset"
    assert listed["chunk-1"]["content_hash"] == "hash-1"
    assert "embedding" not in listed["chunk-0"]
    assert dict(source_chunks(store, "nothing", SYNC_FIELDS)) == {}


def test_overwrite_replaces_a_chunk(store: DocumentStore, embedded_chunks: list[Document]) -> None:
    store.write_documents(embedded_chunks, policy=DuplicatePolicy.OVERWRITE)
    changed = Document(
        id="chunk-0",
        content="Hold reset for 15 seconds.",
        meta=embedded_chunks[0].meta,
        embedding=embedded_chunks[0].embedding,
    )
    store.write_documents([changed], policy=DuplicatePolicy.OVERWRITE)
    assert store.count_documents() == 3
    [stored] = store.filter_documents(
        {"field": "meta.source_id", "operator": "==", "value": "router:reset"}
    )
    assert stored.content == "Hold reset for 15 seconds."


@pytest.mark.parametrize("mode", list(RetrievalMode))
def test_every_retrieval_mode_finds_the_right_chunk(
    store: DocumentStore, embedded_chunks: list[Document], mode: RetrievalMode
) -> None:
    store.write_documents(embedded_chunks, policy=DuplicatePolicy.OVERWRITE)
    pipeline = build_retriever(Settings(), store, mode)
    [best, *_] = retrieve(pipeline, "how do I descale my kettle", top_k=3)
    assert best.meta["source_id"] == "kettle:descale"


def test_filters_restrict_retrieval(store: DocumentStore, embedded_chunks: list[Document]) -> None:
    store.write_documents(embedded_chunks, policy=DuplicatePolicy.OVERWRITE)
    pipeline = build_retriever(Settings(), store)
    results = retrieve(
        pipeline,
        "descale the kettle",
        top_k=5,
        filters={"field": "meta.product", "operator": "==", "value": "Router X1"},
    )
    assert results
    assert {d.meta["product"] for d in results} == {"Router X1"}


def test_kinds_and_dates_filter_alike_on_every_store(
    store: DocumentStore, embedded_chunks: list[Document]
) -> None:
    dated = [
        replace(chunk, meta={**chunk.meta, "kind": "update", "published_at": published})
        for chunk, published in zip(
            embedded_chunks[:2],
            ["2025-01-15T00:00:00+00:00", "2026-06-01T00:00:00+00:00"],
            strict=True,
        )
    ]
    store.write_documents([*dated, embedded_chunks[2]], policy=DuplicatePolicy.OVERWRITE)

    def ids(filters: dict) -> set[str]:
        return {d.id for d in store.filter_documents(filters)}

    updates = {"field": "meta.kind", "operator": "in", "value": ["update"]}
    assert ids(updates) == {"chunk-0", "chunk-1"}
    recent = {"field": "meta.published_at", "operator": ">=", "value": "2026-01-01T00:00:00Z"}
    assert ids(recent) == {"chunk-1"}
    both = {"operator": "AND", "conditions": [updates, {**recent, "operator": "<"}]}
    assert ids(both) == {"chunk-0"}
    pipeline = build_retriever(Settings(), store)
    found = retrieve(pipeline, "Wi-Fi band", top_k=5, filters=recent)
    assert [d.id for d in found] == ["chunk-1"]


def test_list_valued_tags_filter_alike_on_every_store(
    store: DocumentStore, embedded_chunks: list[Document]
) -> None:
    """`tags` is a list: `in` means "shares a tag", `==` means "has the tag"."""
    store.write_documents(embedded_chunks, policy=DuplicatePolicy.OVERWRITE)

    def matching(filters: dict[str, object]) -> set[str]:
        return {d.meta["product"] for d in store.filter_documents(filters)}

    assert len(matching({"field": "meta.tags", "operator": "in", "value": ["x", "demo"]})) > 1
    assert matching({"field": "meta.tags", "operator": "in", "value": ["absent"]}) == set()
    assert matching({"field": "meta.tags", "operator": "==", "value": "demo"})
    scoped = {
        "operator": "AND",
        "conditions": [
            {"field": "meta.tags", "operator": "in", "value": ["demo"]},
            {"field": "meta.product", "operator": "==", "value": "Router X1"},
        ],
    }
    assert matching(scoped) == {"Router X1"}


def test_memory_store_persists_across_restarts(
    tmp_path: Path, embedded_chunks: list[Document]
) -> None:
    store = memory_store(tmp_path)
    store.write_documents(embedded_chunks)
    persist(store)
    reopened = memory_store(tmp_path)
    assert reopened.count_documents() == 3
    assert reopened.filter_documents()[0].embedding is not None
    assert not list(tmp_path.glob(".store-*")), "no temporary files are left behind"


def test_vectorised_search_matches_haystacks_reference_scoring(tmp_path: Path) -> None:
    """The embedded store's fast BM25+ and vector search rank exactly as Haystack's own
    (BM25 over the text the index searches: the section path, weighted, and the body)."""

    fast = memory_store(tmp_path)
    KnowledgeSync(Settings(data_dir=tmp_path), fast).sync(load_sources(SAMPLE_SOURCES_FILE))
    reference = InMemoryDocumentStore(
        bm25_algorithm="BM25Plus", embedding_similarity_function="dot_product"
    )
    reference.write_documents([replace(d, content=bm25_text(d)) for d in fast.filter_documents()])
    text_embedder = build_text_embedder(Settings())
    text_embedder.warm_up()
    for query in (
        "how do I factory reset the hub",
        "wifi password changed amber light",
        "warranty",
    ):
        ours = fast.bm25_retrieval(query, top_k=5)
        theirs = reference.bm25_retrieval(query, top_k=5)
        assert [d.id for d in ours] == [d.id for d in theirs]
        assert [d.score for d in ours] == pytest.approx([d.score for d in theirs], rel=1e-4)
        embedding = text_embedder.run(query)["embedding"]
        ours = fast.embedding_retrieval(embedding, top_k=5)
        theirs = reference.embedding_retrieval(embedding, top_k=5)
        assert [d.id for d in ours] == [d.id for d in theirs]
        assert [d.score for d in ours] == pytest.approx([d.score for d in theirs], rel=1e-4)
    product = {"field": "meta.source", "operator": "==", "value": "nimbus-releases"}
    assert {d.meta["source"] for d in fast.bm25_retrieval("reset", filters=product)} == {
        "nimbus-releases"
    }


def test_search_sees_writes_and_deletes_at_once(tmp_path: Path, embedded_chunks) -> None:
    store = memory_store(tmp_path)
    store.write_documents(embedded_chunks[:2])
    assert [d.id for d in store.bm25_retrieval("kettle citric")] == []
    store.write_documents(embedded_chunks[2:])
    assert [d.id for d in store.bm25_retrieval("kettle citric")] == ["chunk-2"]
    store.delete_documents(["chunk-2"])
    assert store.bm25_retrieval("kettle citric") == []


def test_the_memory_store_sees_what_another_process_wrote(tmp_path: Path) -> None:
    """The bot and the scheduler each hold a copy; a sync in one reaches the other."""

    path = tmp_path / "store.json"
    bot = PersistentInMemoryDocumentStore(path)
    scheduler = PersistentInMemoryDocumentStore(path)
    scheduler.write_documents([Document(id="a", content="reset the hub")])
    scheduler.persist()
    assert bot.count_documents() == 1
    assert [d.id for d in bot.bm25_retrieval("reset")] == ["a"]

    bot.write_documents([Document(id="b", content="pair a sensor")])  # on top of "a"
    bot.persist()
    scheduler.delete_documents(["a"])  # reloads first, so "b" is kept
    scheduler.persist()
    assert sorted(d.id for d in PersistentInMemoryDocumentStore(path).filter_documents()) == ["b"]
    assert [d.id for d in bot.filter_documents()] == ["b"]


def test_bulk_changes_reach_search_and_the_file(tmp_path: Path, embedded_chunks) -> None:
    store = PersistentInMemoryDocumentStore(tmp_path / "store.json")
    store.write_documents(embedded_chunks)
    # List-valued tags match as on Weaviate: == means "contains".
    demo = {"field": "meta.tags", "operator": "==", "value": "demo"}
    assert store.update_by_filter(demo, {"product": "Kettle 2"}) == len(embedded_chunks)
    persist(store)
    reopened = PersistentInMemoryDocumentStore(tmp_path / "store.json")
    assert {d.meta["product"] for d in reopened.filter_documents()} == {"Kettle 2"}
    renamed = {"field": "meta.product", "operator": "==", "value": "Kettle 2"}
    assert [d.id for d in store.bm25_retrieval("descale kettle", filters=renamed, top_k=1)] == [
        "chunk-2"
    ]

    store.delete_all_documents()
    assert store.bm25_retrieval("descale kettle", top_k=3) == []
    persist(store)
    assert PersistentInMemoryDocumentStore(tmp_path / "store.json").count_documents() == 0


@pytest.mark.weaviate
@pytest.mark.skipif(not WEAVIATE_URL, reason="WEAVIATE_URL is not set: Weaviate cases skipped")
def test_weaviate_connects_once_under_concurrency_and_after_a_failed_start() -> None:
    # A fresh store asked by many threads at once (a replica's first questions): each
    # got a client weaviate-haystack had stored but not yet connected.
    store = open_weaviate_store(WEAVIATE_URL, collection=fresh_collection("Connect"))
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            counts = list(pool.map(lambda _: store.count_documents(), range(16)))
        assert counts == [0] * 16
    finally:
        drop(store)

    # Weaviate unreachable when the store is first used: the failure is not kept.
    late = open_weaviate_store(f"http://127.0.0.1:{free_port()}", collection=fresh_collection())
    with pytest.raises(Exception, match=r"(?i)connect"):
        late.count_documents()
    late._url = WEAVIATE_URL  # the server is reachable now (as after Weaviate's restart)
    try:
        assert late.count_documents() == 0
    finally:
        drop(late)


@pytest.mark.weaviate
@pytest.mark.skipif(not WEAVIATE_URL, reason="WEAVIATE_URL is not set: Weaviate cases skipped")
def test_a_collection_from_an_older_release_gains_the_new_metadata_fields() -> None:
    """A collection created before `source_version` existed: opening it adds the new
    properties, so a connector's chunks keep their version (a re-sync then skips them)."""
    name = fresh_collection("Older")
    older = [
        p for p in WEAVIATE_PROPERTIES if p["name"] not in ("source_version", "source_validator")
    ]
    first = open_weaviate_store(WEAVIATE_URL, collection=name)
    first._collection_settings["properties"] = older  # as the older release created it
    first.count_documents()
    have = {p.name for p in first.collection.config.get().properties}
    assert "source_version" not in have
    first.client.close()

    store = open_weaviate_store(WEAVIATE_URL, collection=name)
    try:
        store.write_documents(
            [Document(content="Hold Reset for 10 seconds.", meta={"source_version": "sha:abc"})]
        )
        [document] = store.filter_documents()
        assert document.meta["source_version"] == "sha:abc"
    finally:
        drop(store)
