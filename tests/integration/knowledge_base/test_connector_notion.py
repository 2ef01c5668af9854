"""The `notion` connector through Notion's official SDK against a local server answering
with the API's documented shapes (`POST /v1/search` with cursor pagination, page objects
with parents and title properties, `GET /v1/blocks/{id}/children` with rich text, error
objects, 429 with Retry-After): the page tree as title paths, blocks as Markdown,
incremental re-syncs by `last_edited_time`, deletions, one broken page isolated."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from knowledge.sources import SourceSpec
from knowledge.sync import KnowledgeSync
from tests.support.service_fake import Reply, ServiceFake, service_fake
from tests.support.stores import chunks_by_item

HUB = "0b1f7c6e-1c8e-4a5e-9a43-2d3f1e0a0001"
SETUP = "0b1f7c6e-1c8e-4a5e-9a43-2d3f1e0a0002"
RESET = "0b1f7c6e-1c8e-4a5e-9a43-2d3f1e0a0003"
OTHER = "0b1f7c6e-1c8e-4a5e-9a43-2d3f1e0a0004"
NOTE = "0b1f7c6e-1c8e-4a5e-9a43-2d3f1e0a0005"
OLD = "0b1f7c6e-1c8e-4a5e-9a43-2d3f1e0a0006"
ROW = "aa1f7c6e-1c8e-4a5e-9a43-2d3f1e0b0001"
STEP = "aa1f7c6e-1c8e-4a5e-9a43-2d3f1e0b0002"


def rich(text: str, href: str | None = None) -> list[dict[str, Any]]:
    return [
        {
            "type": "text",
            "text": {"content": text, "link": {"url": href} if href else None},
            "annotations": {"bold": False, "italic": False, "code": False, "color": "default"},
            "plain_text": text,
            "href": href,
        }
    ]


def page(
    page_id: str, title: str, parent: dict[str, Any], edited: str, **extra: Any
) -> dict[str, Any]:
    title_property = extra.pop("title_property", "title")
    return {
        "object": "page",
        "id": page_id,
        "created_time": "2026-01-05T09:00:00.000Z",
        "last_edited_time": edited,
        "created_by": {"object": "user", "id": "ee5f0f84-409a-440f-983a-a5315961c6e4"},
        "last_edited_by": {"object": "user", "id": "ee5f0f84-409a-440f-983a-a5315961c6e4"},
        "cover": None,
        "icon": None,
        "parent": parent,
        "archived": False,
        "in_trash": False,
        "properties": {
            title_property: {"id": "title", "type": "title", "title": rich(title)},
        },
        "url": f"https://www.notion.so/{title.replace(' ', '-')}-{page_id.replace('-', '')}",
        "public_url": None,
        **extra,
    }


def block(kind: str, value: dict[str, Any], block_id: str = "", children: bool = False) -> dict:
    return {
        "object": "block",
        "id": block_id or f"bb{abs(hash((kind, json.dumps(value)))) % 10**30:030d}",
        "created_time": "2026-01-05T09:00:00.000Z",
        "last_edited_time": "2026-01-05T09:00:00.000Z",
        "has_children": children,
        "archived": False,
        "in_trash": False,
        "type": kind,
        kind: value,
    }


def listing(results: list[dict[str, Any]], cursor: str | None, kind: str) -> Reply:
    return Reply(
        200,
        json.dumps(
            {
                "object": "list",
                "results": results,
                "next_cursor": cursor,
                "has_more": cursor is not None,
                "type": kind,
                kind: {},
                "request_id": "6b8f2a1e-0c55-4b4e-8e55-7f1d3c2b1a00",
            }
        ),
        {"Content-Type": "application/json"},
    )


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    body = {"object": "error", "status": status, "code": code, "message": message}
    return Reply(status, json.dumps(body), {"Content-Type": "application/json", **(headers or {})})


class Workspace:
    """Pages in search order, and each block's children."""

    def __init__(self, fake: ServiceFake) -> None:
        self.fake = fake
        workspace = {"type": "workspace", "workspace": True}
        self.pages = [
            page(HUB, "Nimbus Hub", workspace, "2026-01-05T09:00:00.000Z"),
            page(SETUP, "Setup", {"type": "page_id", "page_id": HUB}, "2026-01-06T09:00:00.000Z"),
            page(RESET, "Factory reset", {"type": "page_id", "page_id": SETUP},
                 "2026-01-07T09:00:00.000Z"),
            page(OTHER, "Marketing plans", workspace, "2026-01-08T09:00:00.000Z"),
            page(
                NOTE, "Firmware 3.2", {"type": "data_source_id", "data_source_id": "d5"},
                "2026-02-01T09:00:00.000Z", title_property="Name",
            ),
            page(OLD, "Old setup", {"type": "page_id", "page_id": HUB}, "2026-01-02T09:00:00.000Z",
                 archived=True, in_trash=True),
        ]  # fmt: skip
        self.blocks: dict[str, list[dict[str, Any]]] = {
            HUB: [block("paragraph", {"rich_text": rich("The Nimbus Hub connects sensors.")})],
            SETUP: [
                block("paragraph", {"rich_text": rich("Set up the hub before pairing.")}),
                block("child_page", {"title": "Factory reset"}, RESET),
            ],
            RESET: [
                block("heading_2", {"rich_text": rich("Steps"), "is_toggleable": False}),
                block("numbered_list_item", {"rich_text": rich("Unplug the hub.")}),
                block("numbered_list_item", {"rich_text": rich("Hold Reset for 10 seconds.")},
                      STEP, True),
                block("table", {"table_width": 2, "has_column_header": True}, ROW, True),
                block("code", {"rich_text": rich("hubctl reset --hard"), "language": "shell"}),
                block("paragraph", {"rich_text": rich("See the support site", "https://help.example.com")}),
            ],
            STEP: [block("bulleted_list_item", {"rich_text": rich("The light blinks amber.")})],
            ROW: [
                block("table_row", {"cells": [rich("Model"), rich("Seconds")]}),
                block("table_row", {"cells": [rich("Hub 2"), rich("10")]}),
            ],
            OTHER: [block("paragraph", {"rich_text": rich("Not support material.")})],
            NOTE: [block("paragraph", {"rich_text": rich("Firmware 3.2 adds Matter 1.4.")})],
        }  # fmt: skip
        fake.routes["/v1/search"] = self.search

    def search(self, path: str, _headers: dict[str, str]) -> Reply:
        body = json.loads(self.fake.posted[-1][2] or b"{}")
        assert body["filter"] == {"property": "object", "value": "page"}
        start = int(body.get("start_cursor") or 0)
        end = start + 4  # two listing pages, to exercise the cursor
        cursor = str(end) if end < len(self.pages) else None
        return listing(self.pages[start:end], cursor, "page_or_data_source")

    def serve_blocks(self) -> None:
        for block_id in self.blocks:
            self.fake.routes[f"/v1/blocks/{block_id}/children"] = self.children

    def children(self, path: str, _headers: dict[str, str]) -> Reply:
        block_id = path.split("?")[0].split("/")[3]
        return listing(self.blocks[block_id], None, "block")

    def block_reads(self) -> list[str]:
        return sorted({p.split("/")[3] for p in self.fake.requested("/v1/blocks/")})

    def edit(self, page_id: str, edited: str, **changes: Any) -> None:
        for listed in self.pages:
            if listed["id"] == page_id:
                listed.update(last_edited_time=edited, **changes)


@pytest.fixture
def workspace() -> Iterator[Workspace]:
    with service_fake() as fake:
        notion = Workspace(fake)
        notion.serve_blocks()
        yield notion


@pytest.fixture
def connector_settings(workspace: Workspace) -> dict[str, object]:
    return {"notion_token": "ntn_0123456789abcdefghijklmnop", "notion_api_url": workspace.fake.url}


def source(**overrides: Any) -> SourceSpec:
    return SourceSpec.model_validate(
        {"name": "wiki", "kind": "manual", "type": "notion", "product": "Nimbus Hub", **overrides}
    )


def held(sync: KnowledgeSync) -> dict[str, str]:
    """page id (without dashes) → the text of its chunks."""
    return {
        item.removeprefix("wiki:"): "".join(d.content or "" for d in chunks)
        for item, chunks in chunks_by_item(sync.store, "wiki").items()
    }


def key(page_id: str) -> str:
    return page_id.replace("-", "")


def test_pages_under_the_root_become_markdown_with_their_tree_as_title(
    workspace: Workspace, sync: KnowledgeSync
) -> None:
    [report] = sync.sync([source(root=HUB)])
    assert (report.added, report.failed) == (3, 0)
    pages = held(sync)
    assert set(pages) == {key(HUB), key(SETUP), key(RESET)}, "not other trees, not the trash"
    reset = pages[key(RESET)]
    for expected in (
        "1. Unplug the hub.",
        "2. Hold Reset for 10 seconds.",
        "The light blinks amber.",
        "| Model | Seconds |",
        "| Hub 2 | 10 |",
        "hubctl reset --hard",
        "[See the support site](https://help.example.com)",
    ):
        assert expected in reset, expected
    [chunk, *_] = [
        d for d in sync.store.filter_documents() if d.meta["source_id"].endswith(key(RESET))
    ]
    assert chunk.meta["title"] == "Nimbus Hub > Setup > Factory reset"
    assert chunk.meta["url"].startswith("https://www.notion.so/Factory-reset-")
    assert chunk.meta["product"] == "Nimbus Hub"
    [(_path, headers, _body), *_] = workspace.fake.posted
    assert headers["authorization"] == "Bearer ntn_0123456789abcdefghijklmnop"
    assert headers["notion-version"] == "2025-09-03"


def test_a_resync_reads_only_edited_pages_and_drops_trashed_ones(
    workspace: Workspace, sync: KnowledgeSync
) -> None:
    [first] = sync.sync([source()])
    assert first.added == 5, "every live page shared with the integration, database pages too"
    workspace.fake.clear()
    [again] = sync.sync([source()])
    assert (again.unchanged, again.added, again.updated, again.chunks_embedded) == (5, 0, 0, 0)
    assert workspace.block_reads() == [], "no block is read for an unedited page"

    workspace.blocks[RESET][2] = block(
        "numbered_list_item", {"rich_text": rich("Hold Reset for 5 seconds.")}, STEP, True
    )
    workspace.edit(RESET, "2026-03-01T10:00:00.000Z")
    workspace.edit(OTHER, "2026-03-01T10:00:00.000Z", in_trash=True)
    workspace.fake.clear()
    [changed] = sync.sync([source()])
    assert (changed.updated, changed.deleted, changed.unchanged) == (1, 1, 3)
    assert workspace.block_reads() == sorted([RESET, STEP, ROW])
    pages = held(sync)
    assert "5 seconds" in pages[key(RESET)]
    assert key(OTHER) not in pages


def test_429_is_waited_out_and_a_broken_page_fails_alone(
    workspace: Workspace, sync: KnowledgeSync
) -> None:
    workspace.fake.failures["/v1/search"] = [
        error(429, "rate_limited", "You have been rate limited.", {"Retry-After": "1"})
    ]
    workspace.fake.routes[f"/v1/blocks/{SETUP}/children"] = lambda *_: error(
        404, "object_not_found", f"Could not find block with ID: {SETUP}."
    )
    [report] = sync.sync([source()])
    assert (report.added, report.failed) == (4, 1)
    assert key(SETUP) in report.errors[0]["item"]
    assert "Could not find block" in report.errors[0]["error"]
    assert len([p for p, _h in workspace.fake.requests if p.startswith("/v1/search")]) == 3


def test_a_listing_that_fails_deletes_nothing(workspace: Workspace, sync: KnowledgeSync) -> None:
    sync.sync([source()])
    workspace.fake.routes["/v1/search"] = lambda *_: error(
        401, "unauthorized", "API token is invalid."
    )
    [report] = sync.sync([source()])
    assert (report.deleted, report.failed) == (0, 1)
    assert "API token is invalid" in report.errors[0]["error"]
    assert len(held(sync)) == 5
