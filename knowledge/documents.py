"""The kinds of documents in the knowledge base and the metadata every chunk carries.

Both store backends derive their schema from `META_FIELDS`, and indexing keeps only
these fields, so a converter's extra metadata never reaches the store (Weaviate would
otherwise add a property for it, and a nested one breaks its queries).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal


class DocumentKind(StrEnum):
    MANUAL = "manual"
    UPDATE = "update"
    VERIFIED_ANSWER = "verified_answer"


FieldType = Literal["text", "text[]", "date", "int"]


@dataclass(frozen=True)
class MetaField:
    name: str
    type: FieldType
    exact: bool = False  # matched whole in filters (ids, names), not word by word


META_FIELDS: tuple[MetaField, ...] = (
    MetaField("source", "text", exact=True),
    MetaField("source_id", "text", exact=True),
    MetaField("content_hash", "text", exact=True),
    # A connector's cheap version of the item (its service's updated-at, a git blob sha,
    # a sitemap lastmod) and the HTTP validator (ETag / Last-Modified) of its last fetch:
    # a re-sync skips an item whose version is unchanged without fetching its body.
    MetaField("source_version", "text", exact=True),
    MetaField("source_validator", "text", exact=True),
    MetaField("kind", "text", exact=True),
    MetaField("product", "text", exact=True),
    MetaField("tags", "text[]", exact=True),
    MetaField("title", "text"),
    MetaField("section", "text"),
    MetaField("url", "text", exact=True),
    MetaField("published_at", "date"),
    MetaField("chunk_index", "int"),
    MetaField("page_number", "int"),
)
META_NAMES = frozenset(field.name for field in META_FIELDS)


def known_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """Only the metadata fields the store's schema has."""
    return {key: value for key, value in meta.items() if key in META_NAMES}
