"""The `zendesk` connector against a local server answering with the Help Center API's
documented shapes: `articles.json` / `sections.json` / `categories.json` with cursor
pagination (`page[size]`, `meta.has_more`, `links.next`), 429 with Retry-After."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from knowledge.sources import SourceSpec
from knowledge.sync import KnowledgeSync
from tests.support.service_fake import Reply, ServiceFake, service_fake
from tests.support.stores import chunks_by_item


def article(number: int, title: str, body: str | None, **extra: Any) -> dict[str, Any]:
    """An article as GET /api/v2/help_center/{locale}/articles.json lists it."""
    return {
        "id": number,
        "url": f"https://acme.zendesk.com/api/v2/help_center/en-us/articles/{number}.json",
        "html_url": (
            f"https://acme.zendesk.com/hc/en-us/articles/{number}-{title.replace(' ', '-')}"
        ),
        "author_id": 28226296456851,
        "comments_disabled": False,
        "draft": False,
        "promoted": False,
        "position": 0,
        "vote_sum": 0,
        "vote_count": 0,
        "section_id": 360001,
        "created_at": "2026-09-01T10:00:00Z",
        "updated_at": "2026-09-01T10:00:00Z",
        "name": title,
        "title": title,
        "source_locale": "en-us",
        "locale": "en-us",
        "outdated": False,
        "outdated_locales": [],
        "edited_at": "2026-09-01T10:00:00Z",
        "user_segment_id": None,
        "permission_group_id": 2852339,
        "content_tag_ids": [],
        "label_names": [],
        "body": body,
        **extra,
    }


class HelpCenter:
    def __init__(self, fake: ServiceFake) -> None:
        self.fake = fake
        self.articles = [
            article(101, "Factory reset", "<p>Hold <strong>Reset</strong> for 10 seconds.</p>"),
            article(
                102,
                "Pairing sensors",
                "<ol><li>Press Pair on the hub.</li><li>Press the sensor's button.</li></ol>",
            ),
            article(103, "Wi-Fi bands", "<p>The hub joins 2.4 GHz networks only.</p>"),
            article(104, "Unpublished", "<p>Draft text.</p>", draft=True),
        ]
        base = "/api/v2/help_center/en-us"
        fake.routes[f"{base}/articles.json"] = self.list_articles
        fake.routes[f"{base}/sections.json"] = lambda *_: self.json(
            {
                "sections": [{"id": 360001, "name": "Setup", "category_id": 3601}],
                "meta": {"has_more": False, "after_cursor": None, "before_cursor": None},
                "links": {"first": None, "last": None, "next": None, "prev": None},
            }
        )
        fake.routes[f"{base}/categories.json"] = lambda *_: self.json(
            {
                "categories": [{"id": 3601, "name": "Nimbus Hub"}],
                "meta": {"has_more": False, "after_cursor": None, "before_cursor": None},
                "links": {"first": None, "last": None, "next": None, "prev": None},
            }
        )

    @staticmethod
    def json(payload: dict[str, Any]) -> Reply:
        return Reply(200, json.dumps(payload), {"Content-Type": "application/json; charset=utf-8"})

    def list_articles(self, path: str, _headers: dict[str, str]) -> Reply:
        """Two per page, the cursor being the index of the next article."""
        after = int(path.split("page[after]=")[1]) if "page[after]=" in path else 0
        page = self.articles[after : after + 2]
        more = after + 2 < len(self.articles)
        listing = f"{self.fake.url}/api/v2/help_center/en-us/articles.json"
        nxt = f"{listing}?page[size]=2&page[after]={after + 2}" if more else None
        return self.json(
            {
                "articles": page,
                "meta": {
                    "has_more": more,
                    "after_cursor": str(after + 2) if more else None,
                    "before_cursor": None,
                },
                "links": {"first": None, "last": None, "next": nxt, "prev": None},
            }
        )


@pytest.fixture
def help_center() -> Iterator[HelpCenter]:
    with service_fake() as fake:
        yield HelpCenter(fake)


def source(help_center: HelpCenter) -> SourceSpec:
    return SourceSpec(name="help", kind="manual", type="zendesk", url=help_center.fake.url)


def chunks(sync: KnowledgeSync) -> dict[str, list]:
    return chunks_by_item(sync.store, "help")


def test_articles_are_synced_across_pages_with_their_section_and_category_as_tags(
    help_center: HelpCenter, sync: KnowledgeSync
) -> None:
    [report] = sync.sync([source(help_center)])
    assert (report.added, report.failed) == (3, 0)
    held = chunks(sync)
    assert set(held) == {"help:101", "help:102", "help:103"}, "the draft is not indexed"
    [reset] = held["help:101"]
    assert "10 seconds" in reset.content
    assert reset.meta["url"] == "https://acme.zendesk.com/hc/en-us/articles/101-Factory-reset"
    assert reset.meta["title"] == "Factory reset"
    assert set(reset.meta["tags"]) == {"Nimbus Hub", "Setup"}
    assert len(help_center.fake.requested("/api/v2/help_center/en-us/articles.json")) == 2


def test_a_resync_embeds_nothing_unchanged_and_follows_edits_and_deletions(
    help_center: HelpCenter, sync: KnowledgeSync
) -> None:
    sync.sync([source(help_center)])
    [again] = sync.sync([source(help_center)])
    assert (again.unchanged, again.chunks_embedded) == (3, 0)

    help_center.articles[0] = article(
        101, "Factory reset", "<p>Hold Reset for 5 seconds.</p>", updated_at="2026-10-14T09:00:00Z"
    )
    del help_center.articles[2]  # archived in Zendesk
    [changed] = sync.sync([source(help_center)])
    assert (changed.updated, changed.deleted, changed.unchanged) == (1, 1, 1)
    held = chunks(sync)
    assert "5 seconds" in held["help:101"][0].content
    assert "help:103" not in held


def test_429_is_waited_out_and_a_broken_article_fails_alone(
    help_center: HelpCenter, sync: KnowledgeSync
) -> None:
    help_center.fake.failures["/api/v2/help_center/en-us/articles.json"] = [
        Reply(429, json.dumps({"error": "TooManyRequests"}), {"Retry-After": "1"})
    ]
    help_center.articles[1] = article(102, "Pairing sensors", None)  # no body
    [report] = sync.sync([source(help_center)])
    assert (report.added, report.failed) == (2, 1)
    assert report.errors[0]["item"] == "help:102"
    assert set(chunks(sync)) == {"help:101", "help:103"}
