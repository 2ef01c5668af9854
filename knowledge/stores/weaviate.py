"""The production store: Weaviate through weaviate-haystack, with an explicit schema."""

from __future__ import annotations

from typing import Any

from haystack.document_stores.types import DocumentStore
from haystack.utils import Secret

from knowledge.documents import META_FIELDS, MetaField
from knowledge.stores.search_index import BM25_B, BM25_K1

WEAVIATE_COLLECTION = "SupportbotChunk"


def _weaviate_property(field: MetaField) -> dict[str, Any]:
    exact = {"tokenization": "field"} if field.exact else {}
    return {"name": field.name, "dataType": [field.type], **exact}


# Explicit schema, so Weaviate never guesses types: Haystack's own fields, then ours.
WEAVIATE_PROPERTIES: list[dict[str, Any]] = [
    {"name": "_original_id", "dataType": ["text"]},
    {"name": "content", "dataType": ["text"]},
    {"name": "blob_data", "dataType": ["blob"]},
    {"name": "blob_mime_type", "dataType": ["text"]},
    {"name": "score", "dataType": ["number"]},
] + [_weaviate_property(field) for field in META_FIELDS]


def open_weaviate_store(
    url: str | None,
    api_key: str | None = None,
    collection: str = WEAVIATE_COLLECTION,
    grpc_port: int = 50051,
    deadline_s: float = 5.0,
) -> DocumentStore:
    if not url:
        raise ValueError("SUPPORTBOT_WEAVIATE_URL must be set when the document store is weaviate")
    # The Weaviate client (gRPC and all, ~0.7 s) loads only when that store is chosen.
    from haystack_integrations.document_stores.weaviate import AuthApiKey

    from knowledge.stores.weaviate_store import ConnectingWeaviateDocumentStore

    return ConnectingWeaviateDocumentStore(
        url=url,
        auth_client_secret=AuthApiKey(api_key=Secret.from_token(api_key)) if api_key else None,
        grpc_port=grpc_port,
        deadline_s=deadline_s,
        collection_settings={
            "class": collection,
            "invertedIndexConfig": {
                "indexNullState": True,
                "indexPropertyLength": True,
                # BM25 as the embedded store scores it: its k1 and b, and no stop-word
                # list (Weaviate's default drops "on", "off", "up", which support
                # questions hinge on).
                "bm25": {"k1": BM25_K1, "b": BM25_B},
                "stopwords": {"preset": "none"},
            },
            "properties": WEAVIATE_PROPERTIES,
        },
    )
