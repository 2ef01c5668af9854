"""The `confluence` connector against a local server answering with the Confluence REST
API's documented shapes: `GET /wiki/rest/api/content?spaceKey=…&type=page` (offset
pagination: `start`, `limit`, `size`, `_links.next`), `GET /wiki/rest/api/content/{id}
?expand=body.storage,version`, 429 with Retry-After."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from knowledge.sources import SourceSpec
from knowledge.sync import KnowledgeSync
from tests.support.service_fake import Reply, ServiceFake, service_fake
from tests.support.stores import chunks_by_item


class Space:
    """Pages of space HUB: id → (title, ancestors' titles, version, storage body)."""

    def __init__(self, fake: ServiceFake) -> None:
        self.fake = fake
        self.pages: dict[str, tuple[str, list[str], int, str | None]] = {
            "1001": ("Nimbus Hub", [], 1, "<p>The Nimbus Hub connects your sensors.</p>"),
            "1002": ("Factory reset", ["Nimbus Hub"], 3, "<p>Hold Reset for 10 seconds.</p>"),
            "1003": (
                "Pairing",
                ["Nimbus Hub"],
                1,
                "<ol><li>Press Pair.</li><li>Press the sensor.</li></ol>",
            ),
        }
        fake.routes["/wiki/rest/api/content"] = self.listing
        for page_id in list(self.pages):
            self.route(page_id)

    def route(self, page_id: str) -> None:
        self.fake.routes[f"/wiki/rest/api/content/{page_id}"] = lambda *_: self.page(page_id)

    def summary(self, page_id: str) -> dict[str, Any]:
        title, ancestors, version, _body = self.pages[page_id]
        return {
            "id": page_id,
            "type": "page",
            "status": "current",
            "title": title,
            "version": {"number": version, "when": "2026-10-14T09:00:00.000Z", "minorEdit": False},
            "ancestors": [
                {"id": str(900 + i), "type": "page", "status": "current", "title": t}
                for i, t in enumerate(ancestors)
            ],
            "_links": {
                "webui": f"/spaces/HUB/pages/{page_id}/{title.replace(' ', '+')}",
                "self": f"{self.fake.url}/wiki/rest/api/content/{page_id}",
            },
        }

    def listing(self, path: str, _headers: dict[str, str]) -> Reply:
        query = parse_qs(urlsplit(path).query)
        assert query["spaceKey"] == ["HUB"]
        assert query["type"] == ["page"]
        start, limit = int(query.get("start", ["0"])[0]), 2  # two per page
        ids = sorted(self.pages)[start : start + limit]
        links: dict[str, str] = {"base": f"{self.fake.url}/wiki", "context": "/wiki"}
        if start + limit < len(self.pages):
            links["next"] = (
                f"/rest/api/content?spaceKey=HUB&type=page&status=current"
                f"&expand=version,ancestors&limit={limit}&start={start + limit}"
            )
        return self.json(
            {
                "results": [self.summary(i) for i in ids],
                "start": start,
                "limit": limit,
                "size": len(ids),
                "_links": links,
            }
        )

    def page(self, page_id: str) -> Reply:
        body = self.pages[page_id][3]
        payload = self.summary(page_id)
        payload["body"] = {"storage": {"value": body, "representation": "storage"}} if body else {}
        return self.json(payload)

    @staticmethod
    def json(payload: Any) -> Reply:
        return Reply(200, json.dumps(payload), {"Content-Type": "application/json"})

    def bodies_fetched(self) -> list[str]:
        return [p for p in self.fake.requested("/wiki/rest/api/content/")]


@pytest.fixture
def space() -> Iterator[Space]:
    with service_fake() as fake:
        yield Space(fake)


@pytest.fixture
def connector_settings() -> dict[str, object]:
    return {"confluence_email": "pat@example.com", "confluence_api_token": "atl-0123456789abcdef"}


def source(space: Space) -> SourceSpec:
    return SourceSpec(
        name="wiki", kind="manual", type="confluence", url=f"{space.fake.url}/wiki", space="HUB"
    )


def held(sync: KnowledgeSync) -> dict[str, list]:
    return chunks_by_item(sync.store, "wiki")


def test_a_space_is_synced_with_its_page_tree_as_titles(space: Space, sync: KnowledgeSync) -> None:
    [report] = sync.sync([source(space)])
    assert (report.added, report.failed) == (3, 0)
    reset = held(sync)["wiki:1002"][0]
    assert reset.meta["title"] == "Nimbus Hub > Factory reset"
    assert reset.meta["url"] == f"{space.fake.url}/wiki/spaces/HUB/pages/1002/Factory+reset"
    assert "10 seconds" in reset.content
    assert all(h.get("authorization", "").startswith("Basic ") for _, h in space.fake.requests)


def test_a_resync_fetches_only_pages_whose_version_changed(
    space: Space, sync: KnowledgeSync
) -> None:
    sync.sync([source(space)])
    space.fake.clear()
    [again] = sync.sync([source(space)])
    assert (again.unchanged, again.chunks_embedded) == (3, 0)
    assert space.bodies_fetched() == []

    space.pages["1002"] = ("Factory reset", ["Nimbus Hub"], 4, "<p>Hold Reset for 5 seconds.</p>")
    del space.pages["1003"]
    space.fake.clear()
    [changed] = sync.sync([source(space)])
    assert (changed.updated, changed.deleted, changed.unchanged) == (1, 1, 1)
    assert space.bodies_fetched() == ["/wiki/rest/api/content/1002?expand=body.storage,version"]
    assert "5 seconds" in held(sync)["wiki:1002"][0].content
    assert "wiki:1003" not in held(sync)


def test_429_is_waited_out_and_a_page_without_body_fails_alone(
    space: Space, sync: KnowledgeSync
) -> None:
    space.fake.failures["/wiki/rest/api/content"] = [Reply(429, "{}", {"Retry-After": "1"})]
    space.pages["1003"] = ("Pairing", ["Nimbus Hub"], 1, None)
    [report] = sync.sync([source(space)])
    assert (report.added, report.failed) == (2, 1)
    assert report.errors[0]["item"] == "wiki:1003"
