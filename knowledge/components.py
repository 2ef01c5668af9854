"""Haystack components of our own, for the jobs Haystack has no component for."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import docx
from docx.table import Table
from haystack import Document, component, logging
from haystack.dataclasses import ByteStream

from knowledge.documents import known_meta

logger = logging.getLogger(__name__)


@component
class DOCXToMarkdown:
    """Convert DOCX files to Markdown text, keeping headings as `#` lines.

    Haystack's DOCXToDocument flattens headings into plain paragraphs, which loses the
    section structure our heading-aware splitter needs.
    """

    @component.output_types(documents=list[Document])
    def run(
        self, sources: list[str | Path | ByteStream], meta: dict[str, Any] | None = None
    ) -> dict[str, list[Document]]:

        documents = []
        for source in sources:
            data = source.data if isinstance(source, ByteStream) else Path(source).read_bytes()
            try:
                parsed = docx.Document(io.BytesIO(data))
            except Exception as error:  # python-docx raises several types for bad zips
                logger.warning("Could not read DOCX: {error}", error=error)
                continue
            lines = []
            for block in parsed.iter_inner_content():
                if isinstance(block, Table):
                    for row in block.rows:
                        lines.append(" | ".join(cell.text.strip() for cell in row.cells))
                    lines.append("")
                    continue
                text = block.text.strip()
                if not text:
                    continue
                style = (block.style.name if block.style is not None else "") or ""
                if style == "Title":
                    lines.append(f"# {text}")
                elif style.startswith("Heading") and style.split()[-1].isdigit():
                    level = min(int(style.split()[-1]), 6)
                    lines.append(f"{'#' * level} {text}")
                elif style.startswith("List"):
                    lines.append(f"- {text}")
                else:
                    lines.append(text)
                lines.append("")
            source_meta = source.meta if isinstance(source, ByteStream) else {}
            documents.append(
                Document(content="\n".join(lines).strip(), meta={**source_meta, **(meta or {})})
            )
        return {"documents": documents}


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
