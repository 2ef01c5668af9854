"""Chunk ids, section paths and the store's metadata for every chunk of one item."""

from __future__ import annotations

import hashlib
from typing import Any

from haystack import Document, component

from knowledge.documents import known_meta


@component
class ChunkAnnotator:
    """Give split chunks their item's metadata, a heading path and a stable id.

    `section` is the heading path the chunk sits under ("Setup > Wi-Fi"); ids derive
    from the item id, its content hash and the chunk's position, so re-indexing the
    same content yields the same ids and nothing is duplicated.
    """

    @component.output_types(documents=list[Document])
    def run(self, documents: list[Document], meta: dict[str, Any]) -> dict[str, list[Document]]:
        # Heading-only chunks carry no answer, unless the heading is all the item has.
        with_body = [d for d in documents if _has_body(d)]
        kept = with_body or [d for d in documents if (d.content or "").strip()]
        annotated = []
        for document in kept:
            headers = [*document.meta.get("parent_headers", []), document.meta.get("header")]
            section = " > ".join(h for h in headers if h)
            # Only the store's schema fields: splitter bookkeeping, file paths and a
            # fetcher's `content_type` mean nothing once stored (and Weaviate stored the
            # latter as an object property that failed every gRPC query).
            chunk_meta = known_meta(document.meta)
            index = len(annotated)
            chunk_meta.update(meta)
            chunk_meta.update({"section": section or None, "chunk_index": index})
            key = f"{meta['source_id']}\x00{meta['content_hash']}\x00{index}"
            annotated.append(
                Document(
                    id=hashlib.sha256(key.encode()).hexdigest(),
                    content=document.content,
                    meta=chunk_meta,
                )
            )
        return {"documents": annotated}


def _has_body(document: Document) -> bool:
    """False for empty chunks and chunks that are only a heading line."""
    text = (document.content or "").strip()
    if not text:
        return False
    lines = [line for line in text.splitlines() if line.strip()]
    return not (len(lines) == 1 and lines[0].lstrip().startswith("#"))
