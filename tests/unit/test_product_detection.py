"""Which product a question is about, from the names and aliases in the sources file."""

from __future__ import annotations

from pathlib import Path

from finetune_data.curation import verified_answer_document
from knowledge.products import ProductCatalog, load_catalog
from supportbot.models import QAPair

CATALOG = ProductCatalog(
    {
        "Galaxy S10": ["S10"],
        "Galaxy S10 Lite": [],
        "Galaxy Note 10": ["Note 10", "Note10"],
        "Galaxy Note 10+": ["Note 10+", "Note 10 plus"],
        "tv": ["smart tv", "television"],
    }
)


def test_a_named_product_is_detected_ignoring_case_and_separators() -> None:
    assert CATALOG.detect("How do I reset my galaxy-s10?").product == "Galaxy S10"
    assert CATALOG.detect("Galaxy_S10 battery drains").product == "Galaxy S10"
    assert CATALOG.detect("my television has no sound").product == "tv"


def test_the_longest_name_wins_where_names_overlap() -> None:
    assert CATALOG.detect("Galaxy S10 Lite screen timeout").product == "Galaxy S10 Lite"
    assert CATALOG.detect("Can the Note 10+ use a stylus?").product == "Galaxy Note 10+"


def test_whole_words_only() -> None:
    assert CATALOG.detect("What is the S100 adapter?").products == ()
    assert CATALOG.detect("Ntv settings").products == ()


def test_two_products_are_ambiguous_and_none_means_everything() -> None:
    both = CATALOG.detect("Does the S10 case fit the Note 10?")
    assert both.ambiguous
    assert both.products == ("Galaxy Note 10", "Galaxy S10")
    assert both.product is None
    nothing = CATALOG.detect("How do I change the wallpaper?")
    assert (nothing.products, nothing.ambiguous) == ((), False)


def test_the_catalog_comes_from_the_sources_file(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(
        "sources:\n"
        "  - {name: s10, kind: manual, type: folder, path: s10, product: Galaxy S10}\n"
        "  - {name: tv, kind: manual, type: folder, path: tv, product: Smart TV}\n"
        "  - {name: notes, kind: update, type: folder, path: notes}\n"
        "products:\n"
        "  - name: Galaxy S10\n"
        "    aliases: [S10, SM-G973]\n"
    )
    catalog = load_catalog(path)
    assert catalog.products == ["Galaxy S10", "Smart TV"]
    assert catalog.detect("my sm-g973 restarts").product == "Galaxy S10"


def test_a_verified_answer_keeps_the_single_product_it_was_answered_for() -> None:

    def product_of(scope: dict | None) -> str | None:
        pair = QAPair(id=7, question="q", answer="a", scope=scope)
        return verified_answer_document(pair).meta["product"]

    assert product_of({"products": ["Galaxy S10"]}) == "Galaxy S10"
    assert product_of({"products": ["Galaxy S10"], "kinds": ["manual"]}) == "Galaxy S10"
    assert product_of({"kinds": ["manual"], "products": ["Nimbus Hub"]}) == "Nimbus Hub"
    assert product_of({"products": ["A", "B"]}) is None
    assert product_of(None) is None
