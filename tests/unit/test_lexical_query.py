"""What BM25 searches for: the question without its question and function words, and
every chunk indexed under its section path."""

from pathlib import Path

from haystack import Document

from knowledge.components.lexical_query import lexical_query
from knowledge.retrieval import RetrievalMode, build_retriever, retrieve
from knowledge.stores import PersistentInMemoryDocumentStore
from knowledge.stores.search_index import SECTION_WEIGHT, bm25_text
from supportbot.settings import Settings


def test_question_words_are_dropped_and_meaningful_short_words_kept() -> None:
    assert lexical_query("How can I turn off my TV?") == "turn off TV"
    kept = lexical_query("Why is Wi-Fi not working in the kitchen")
    assert kept == "Wi Fi not working in kitchen"


def test_a_question_of_only_question_words_is_searched_as_asked() -> None:
    assert lexical_query("What is it?") == "What is it?"


def test_every_chunk_is_indexed_under_its_section_path_once_weighted() -> None:
    first = Document(content="# Wi-Fi\nJoin a network.", meta={"section": "Setup > Wi-Fi"})
    later = Document(content="then press OK.", meta={"section": "Setup > Wi-Fi"})
    assert bm25_text(first) == "\n".join(["Setup > Wi-Fi"] * SECTION_WEIGHT + ["Join a network."])
    assert bm25_text(later).endswith("then press OK.")
    assert bm25_text(later).count("Setup > Wi-Fi") == SECTION_WEIGHT
    assert bm25_text(Document(content="no section")) == "no section"


def _store(tmp_path: Path, documents: list[Document]) -> PersistentInMemoryDocumentStore:
    store = PersistentInMemoryDocumentStore(tmp_path / "store.json")
    store.write_documents(documents)
    return store


def test_a_stub_full_of_question_words_does_not_outrank_the_answer(tmp_path: Path) -> None:
    stub = Document(
        id="stub",
        content="I launched an app. How can I change the language? My app is not working.",
        meta={"section": "Apps > Troubleshooting"},
    )
    answer = Document(
        id="answer",
        content=(
            "To change the display language, open Settings, select General, then "
            "Language, and choose the language you want from the list. " * 3
        ),
        meta={"section": "Settings > Display language"},
    )
    filler = [
        Document(id=f"f{i}", content=f"You can connect device {i} with a cable.", meta={})
        for i in range(20)
    ]
    store = _store(tmp_path, [stub, answer, *filler])
    retriever = build_retriever(Settings(data_dir=tmp_path), store, RetrievalMode.BM25)
    found = retrieve(retriever, "How can I change my language?", top_k=2)
    assert found[0].id == "answer"


def test_a_later_chunk_is_found_by_its_section_heading(tmp_path: Path) -> None:
    later = Document(
        id="later",
        content="Press and hold the button until the light blinks.",
        meta={"section": "Hub > Factory reset", "chunk_index": 1},
    )
    other = Document(id="other", content="Press the button to pair a sensor.", meta={})
    store = _store(tmp_path, [later, other])
    retriever = build_retriever(Settings(data_dir=tmp_path), store, RetrievalMode.BM25)
    assert retrieve(retriever, "factory reset button", top_k=2)[0].id == "later"
