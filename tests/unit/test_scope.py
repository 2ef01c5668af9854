"""The typed scope: stored as JSON and read back whole, and the filters it selects."""

from __future__ import annotations

import json

import pytest

from knowledge.documents import META_FIELDS, DocumentKind, known_meta
from knowledge.scope import Scope

SCOPES = [
    Scope(),
    Scope(products=("Nimbus Hub",)),
    Scope(kinds=("manual", "update"), tags=("billing",), products=("A", "B")),
    # Names the old display label could not carry: its separators inside a value.
    Scope(products=("Hub · Pro", "Cam: 2, mini")),
]


@pytest.mark.parametrize("scope", SCOPES)
def test_a_scope_survives_the_database_round_trip(scope: Scope) -> None:
    stored = json.loads(json.dumps(scope.stored()))
    assert Scope.from_stored(stored) == scope


def test_no_scope_is_stored_as_null_and_junk_reads_as_everything() -> None:
    assert Scope().stored() is None
    assert Scope.from_stored(None) == Scope()
    assert Scope.from_stored({"unknown": ["x"], "products": ["A"]}) == Scope(products=("A",))
    assert Scope.from_stored("product: A") == Scope()  # type: ignore[arg-type]


def test_only_a_single_product_is_the_scope_s_product() -> None:
    assert Scope.of_product("A").product == "A"
    assert Scope(products=("A", "B")).product is None
    assert Scope.of_product(None) == Scope()


def test_filters_select_every_dimension_given() -> None:
    scope = Scope(kinds=(DocumentKind.MANUAL,), tags=("t",), products=("P",))
    assert scope.filters == {
        "operator": "AND",
        "conditions": [
            {"field": "meta.kind", "operator": "in", "value": ["manual"]},
            {"field": "meta.tags", "operator": "in", "value": ["t"]},
            {"field": "meta.product", "operator": "in", "value": ["P"]},
        ],
    }


def test_filtered_fields_are_in_the_store_schema() -> None:
    names = {field.name for field in META_FIELDS}
    for condition in Scope(kinds=("manual",), tags=("t",), products=("P",)).filters["conditions"]:
        assert condition["field"].removeprefix("meta.") in names


def test_chunks_keep_only_schema_metadata() -> None:
    meta = {"title": "T", "content_type": "text/html", "split_id": 3, "nested": {"a": 1}}
    assert known_meta(meta) == {"title": "T"}
