"""DOCX files to Markdown, headings and tables kept (Haystack's DOCX converter flattens them)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import docx
from docx.table import Table
from haystack import Document, component, logging
from haystack.dataclasses import ByteStream

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
