"""Notion pages shared with an integration, through Notion's official SDK
(`notion-client`: its retries honour 429's Retry-After). `POST /v1/search` lists every
page with its `last_edited_time` and parent, so only pages edited since the last sync
have their blocks read (`GET /v1/blocks/{id}/children`, recursively), and the page tree
gives each page its title's path ("Hub > Setup > Factory reset"). With `root`, only that
page and the pages under it. Archived and trashed pages are left out (and so deleted).
The integration's secret is SUPPORTBOT_NOTION_TOKEN.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from haystack.dataclasses import ByteStream
from notion_client import Client
from notion_client.client import ClientOptions, RetryOptions
from notion_client.errors import APIResponseError, HTTPResponseError, RequestTimeoutError
from notion_client.helpers import iterate_paginated_api

from knowledge.connectors import ConnectorSecrets, Entry
from knowledge.sources import SourceItem, SourceSpec, SourceUnavailable

NOTION_VERSION = "2025-09-03"
PAGE_SIZE = 100
MAX_DEPTH = 8  # nested blocks read below a page (toggles, list items, columns)
MAX_BLOCKS = 5_000  # per page: a runaway page is cut, not the sync
MAX_PATH = 20  # ancestors shown in a title path (a cycle cannot loop forever)
# Blocks that are pages of their own (synced separately) or hold nothing to read.
SKIPPED = frozenset({"child_page", "child_database", "unsupported", "breadcrumb"})
NotionError = (APIResponseError, HTTPResponseError, RequestTimeoutError)


def plain(rich_text: list[dict[str, Any]]) -> str:
    """Rich text as Markdown text: links kept, styling dropped."""
    parts = []
    for span in rich_text or []:
        text = span.get("plain_text") or ""
        href = span.get("href")
        parts.append(f"[{text}]({href})" if href and text else text)
    return "".join(parts)


def page_title(page: dict[str, Any]) -> str:
    """The page's title property (its name differs in database pages)."""
    for value in (page.get("properties") or {}).values():
        if isinstance(value, dict) and value.get("type") == "title":
            return plain(value.get("title") or []).strip()
    return ""


def parent_id(page: dict[str, Any]) -> str | None:
    parent = page.get("parent") or {}
    kind = parent.get("type")
    return parent.get(kind) if kind in ("page_id", "block_id") else None


class NotionConnector:
    def __init__(
        self,
        source: SourceSpec,
        secrets: ConnectorSecrets | None = None,
        client: Client | None = None,
    ) -> None:
        self.source = source
        token = secrets.connector_secret("notion_token") if secrets else None
        base = secrets.connector_secret("notion_api_url") if secrets else None
        if client is None and not token:
            raise SourceUnavailable("a notion source needs SUPPORTBOT_NOTION_TOKEN")
        self.client = client or Client(
            ClientOptions(
                auth=token,
                base_url=(base or "https://api.notion.com").rstrip("/"),
                notion_version=NOTION_VERSION,
                timeout_ms=30_000,
                retry=RetryOptions(max_retries=4, max_retry_delay_ms=60_000),
            )
        )

    # --- listing -----------------------------------------------------------------

    def entries(self) -> Iterator[Entry]:
        pages = self._pages()
        root = self._normalized(self.source.root) if self.source.root else None
        listed = 0
        for page_id, page in pages.items():
            chain = [page_id, *self._ancestors(page_id, pages)]  # the page, then up the tree
            if root is not None and root not in chain:
                continue
            path = [page_title(pages[p]) or "Untitled" for p in reversed(chain)]
            if not self.source.wanted(" / ".join(path)):
                continue
            listed += 1
            if self.source.max_pages and listed > self.source.max_pages:
                return
            edited = page.get("last_edited_time")
            yield Entry(
                item_id=f"{self.source.name}:{page_id}",
                version=f"edited:{edited}" if edited else None,
                fetch=lambda _v, p=page, t=path: self._page(p, t),
            )

    def _pages(self) -> dict[str, dict[str, Any]]:
        """Every live page shared with the integration, by id (the listing is metadata:
        a few hundred bytes a page)."""
        pages: dict[str, dict[str, Any]] = {}
        try:
            for page in iterate_paginated_api(
                self.client.search,
                filter={"property": "object", "value": "page"},
                page_size=PAGE_SIZE,
            ):
                if page.get("object") != "page" or page.get("archived") or page.get("in_trash"):
                    continue
                pages[self._normalized(page["id"])] = page
        except NotionError as error:
            raise SourceUnavailable(f"cannot list Notion pages: {error}") from None
        return pages

    @staticmethod
    def _normalized(page_id: str) -> str:
        return page_id.replace("-", "").lower()

    def _ancestors(self, page_id: str, pages: dict[str, dict[str, Any]]) -> list[str]:
        chain: list[str] = []
        current = parent_id(pages[page_id])
        while current and len(chain) < MAX_PATH:
            current = self._normalized(current)
            if current not in pages or current in chain:
                break  # a parent not shared with the integration ends the path
            chain.append(current)
            current = parent_id(pages[current])
        return chain

    # --- pages -------------------------------------------------------------------

    def _page(self, page: dict[str, Any], path: list[str]) -> SourceItem:
        budget = [MAX_BLOCKS]
        body = "\n\n".join(self._blocks(page["id"], 0, budget)).strip()
        title = path[-1]
        markdown = f"# {title}\n\n{body}\n"
        edited = page.get("last_edited_time")
        return SourceItem(
            source=self.source,
            item_id=f"{self.source.name}:{self._normalized(page['id'])}",
            stream=ByteStream(data=markdown.encode("utf-8"), mime_type="text/markdown"),
            title=" > ".join(path),
            url=page.get("public_url") or page.get("url"),
            published_at=_parse_time(edited) if self.source.kind == "update" else None,
        )

    def _blocks(self, block_id: str, depth: int, budget: list[int]) -> list[str]:
        """The Markdown of a block's children, in order (nested ones indented)."""
        lines: list[str] = []
        number = 0
        for block in iterate_paginated_api(
            self.client.blocks.children.list, block_id=block_id, page_size=PAGE_SIZE
        ):
            budget[0] -= 1
            if budget[0] < 0:
                break
            kind = block.get("type", "")
            if kind in SKIPPED or block.get("in_trash") or block.get("archived"):
                continue
            number = number + 1 if kind == "numbered_list_item" else 0
            text = _block_markdown(kind, block.get(kind) or {}, number)
            children: list[str] = []
            if block.get("has_children") and depth < MAX_DEPTH:
                children = self._blocks(block["id"], depth + 1, budget)
            if kind == "table":
                text = _table(children)
                children = []
            elif kind == "table_row":
                text = " | ".join(
                    plain(cell).replace("|", "\\|") for cell in block[kind].get("cells") or []
                )
            if text:
                lines.append(text)
            if children:
                lines += [_nested(kind, number, child) for child in children]
        return lines

    def close(self) -> None:
        self.client.close()


def _block_markdown(kind: str, value: dict[str, Any], number: int) -> str:
    text = plain(value.get("rich_text") or [])
    if kind.startswith("heading_"):
        return f"{'#' * (int(kind[-1]) + 1)} {text}"  # the page title is the only h1
    if kind == "bulleted_list_item":
        return f"- {text}"
    if kind == "numbered_list_item":
        return f"{number}. {text}"
    if kind == "to_do":
        return f"- [{'x' if value.get('checked') else ' '}] {text}"
    if kind in ("quote", "callout"):
        return f"> {text}"
    if kind == "code":
        language = value.get("language") or ""
        return f"```{'' if language == 'plain text' else language}\n{text}\n```"
    if kind == "equation":
        return f"$${value.get('expression', '')}$$"
    if kind == "divider":
        return "---"
    if kind in ("bookmark", "embed", "link_preview"):
        caption = plain(value.get("caption") or [])
        return f"[{caption or value.get('url', '')}]({value.get('url', '')})"
    if kind in ("image", "file", "pdf", "video", "audio"):
        return plain(value.get("caption") or [])  # the file itself is not indexed
    return text  # paragraph, toggle, template…; containers (columns, synced) return ""


def _nested(kind: str, number: int, markdown: str) -> str:
    """A child block's Markdown under its parent: indented under a list item (by the
    marker's width, so it stays inside the item), quoted under a quote or callout."""
    if kind in ("bulleted_list_item", "to_do"):
        prefix = "  "
    elif kind == "numbered_list_item":
        prefix = " " * len(f"{number}. ")
    elif kind in ("quote", "callout"):
        prefix = "> "
    else:
        return markdown  # toggles, columns, synced blocks: their content, as it is
    return prefix + markdown.replace("\n", "\n" + prefix)


def _table(rows: list[str]) -> str:
    """table_row lines as a Markdown table (Notion tables have no header flag we can
    rely on: the first row is shown as the header, as Notion's own export does)."""
    if not rows:
        return ""
    width = rows[0].count(" | ") + 1
    rule = " | ".join(["---"] * width)
    return "\n".join(f"| {row} |" for row in [rows[0], rule, *rows[1:]])


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
