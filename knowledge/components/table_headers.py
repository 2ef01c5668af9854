"""A long Markdown table's header in every chunk the table spans.

The word splitter cuts a long section into 180-word chunks wherever the count falls, so
the rows of a long table (a spec sheet, a menu reference) end up in chunks without the
header that says what their columns mean, and a numeric limit loses its name. Each
chunk that continues a table gets the table's header row and rule repeated above its
rows (after the fragment of a row the cut left at its start); its section path is
added to BM25's text and the embedding by the rest of the pipeline.
"""

from __future__ import annotations

import re
from dataclasses import replace

from haystack import Document, component

_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def _is_row(line: str) -> bool:
    return line.lstrip().startswith("|")


def _prose_after_blank(lines: list[str], i: int) -> bool:
    line = lines[i]
    prose = bool(line.strip()) and not _is_row(line) and not _RULE.match(line)
    return prose and i > 0 and not lines[i - 1].strip()


def _section_key(document: Document) -> tuple:
    meta = document.meta
    return (meta.get("source_id"), tuple(meta.get("parent_headers") or ()), meta.get("header"))


@component
class TableHeaders:
    """Repeat a table's header (and rule) in the chunks that continue it."""

    @component.output_types(documents=list[Document])
    def run(self, documents: list[Document]) -> dict[str, list[Document]]:
        header: list[str] | None = None  # the open table's header and rule lines
        section = None
        result = []
        for document in documents:
            if _section_key(document) != section:
                section, header = _section_key(document), None
            lines = (document.content or "").split("\n")
            continues = header is not None and self._starts_in_table(lines)
            if continues and header is not None:
                fragment, rows = self._split_fragment(lines)
                document = replace(document, content="\n".join([*fragment, *header, *rows]))
            header = self._open_header(lines, header)
            result.append(document)
        return {"documents": result}

    @staticmethod
    def _starts_in_table(lines: list[str]) -> bool:
        """Whether the chunk's first full lines are table rows without their rule."""
        body = [line for line in lines if line.strip()]
        head = body[:3]
        return (
            any(_is_row(line) for line in head)
            and not any(_RULE.match(line) for line in head)
            and not (len(body) > 1 and _RULE.match(body[1]))
        )

    @staticmethod
    def _split_fragment(lines: list[str]) -> tuple[list[str], list[str]]:
        """The cut row fragment the chunk starts with (if any), and the rest."""
        if lines and not _is_row(lines[0]) and lines[0].rstrip().endswith("|"):
            return lines[:1], lines[1:]
        return [], lines

    @staticmethod
    def _open_header(lines: list[str], current: list[str] | None) -> list[str] | None:
        """The header of the table still open at the end of this chunk, if any."""
        header = current
        for i, line in enumerate(lines):
            if i + 1 < len(lines) and _is_row(line) and _RULE.match(lines[i + 1]):
                header = [line, lines[i + 1]]
            elif _prose_after_blank(lines, i):
                header = None  # the table has ended
        return header
