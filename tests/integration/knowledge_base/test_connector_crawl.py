"""The `crawl` connector against a locally served docs site without a sitemap: pages
found by their links, robots.txt (rules and the robots meta tag), nofollow links,
include/exclude, depth and page limits; incremental re-crawls (ETags and the links kept
from the last crawl), deletions, 429 with Retry-After, one broken page isolated."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from knowledge.sources import SourceSpec
from knowledge.sync import KnowledgeSync
from tests.support.service_fake import ConditionalPages, Reply, ServiceFake, service_fake
from tests.support.stores import chunks_by_item

ROBOTS = "User-agent: *\nDisallow: /internal/\n"


def page(title: str, text: str, *links: str, robots: str = "") -> str:
    meta = f'<meta name="robots" content="{robots}">' if robots else ""
    anchors = "".join(f"<li>{link}</li>" for link in links)
    return (
        f"<html><head><title>{title}</title>{meta}</head><body><main><h1>{title}</h1>"
        f"<p>{text}</p><ul>{anchors}</ul></main></body></html>"
    )


def a(href: str, rel: str = "") -> str:
    return f'<a href="{href}"{f" rel={rel!r}" if rel else ""}>{href}</a>'


class Site(ConditionalPages):
    """Pages found by their links; every page answers conditional requests."""

    def __init__(self, fake: ServiceFake) -> None:
        super().__init__(fake)
        self.put("/docs/", "Nimbus Hub docs", "Start here for the Nimbus Hub.", [
            a("reset"), a("/docs/pairing"), a("/docs/reset#step-2"), a("/internal/notes"),
            a("/drafts/new"), a("https://elsewhere.example/out"), a("mailto:help@example.com"),
            a("/docs/diagram.png"), a("/docs/missing"), a("/docs/tags"), a("/docs/download"),
            a("/docs/private", rel="nofollow"), a("/docs/old-reset"),
        ])  # fmt: skip
        self.put("/docs/reset", "Factory reset", "Hold Reset for 10 seconds.", [
            a("/docs/"), a("/docs/wifi"),
        ])  # fmt: skip
        self.put("/docs/pairing", "Pairing sensors", "Press Pair on the hub.", [
            a("/docs/deep/one"),
        ])  # fmt: skip
        self.put("/docs/wifi", "Wi-Fi", "The hub joins 2.4 GHz networks only.", [])
        self.put("/docs/deep/one", "Deep one", "Two levels down from the start.", [
            a("/docs/deep/two"),
        ])  # fmt: skip
        self.put("/docs/deep/two", "Deep two", "Beyond the depth limit.", [])
        self.put("/docs/tags", "All tags", "A list of tags.", [a("/docs/matter")], robots="noindex")
        self.put("/docs/matter", "Matter support", "Firmware 3.2 adds Matter 1.4.", [])
        for path in ("/internal/notes", "/drafts/new", "/docs/private", "/docs/diagram.png"):
            self.put(path, "Not for us", "Should never be requested.", [])
        fake.routes["/robots.txt"] = lambda *_: Reply(200, ROBOTS, {"Content-Type": "text/plain"})
        fake.routes["/docs/old-reset"] = lambda *_: Reply(301, "", {"Location": "/docs/reset"})
        fake.routes["/docs/download"] = lambda *_: Reply(
            200, b"PK\x03\x04", {"Content-Type": "application/zip"}
        )

    def put(self, path: str, title: str, text: str, links: list[str], robots: str = "") -> None:
        etag = f'"{path}-{len(self.pages)}-{hash(text) & 0xFFFF}"'
        self.pages[path] = (page(title, text, *links, robots=robots), etag)
        self.fake.routes[path] = self.serve


@pytest.fixture
def site() -> Iterator[Site]:
    with service_fake() as fake:
        yield Site(fake)


def source(site: Site, **overrides: object) -> SourceSpec:
    spec = {
        "name": "docs-crawl",
        "kind": "manual",
        "type": "crawl",
        "url": f"{site.fake.url}/docs/",
        "exclude": [r"/drafts/"],
        "max_depth": 2,
        "product": "Nimbus Hub",
        **overrides,
    }
    return SourceSpec.model_validate(spec)


def held(sync: KnowledgeSync, site: Site) -> dict[str, str]:
    """path → the text of its chunks."""
    prefix = f"docs-crawl:{site.fake.url}"
    return {
        item.removeprefix(prefix): "".join(d.content or "" for d in chunks)
        for item, chunks in chunks_by_item(sync.store, "docs-crawl").items()
    }


INDEXED = {"/docs/", "/docs/reset", "/docs/pairing", "/docs/wifi", "/docs/deep/one", "/docs/matter"}


def test_a_site_is_crawled_by_its_links_honouring_robots_patterns_and_depth(
    site: Site, sync: KnowledgeSync
) -> None:
    [report] = sync.sync([source(site)])
    assert (report.added, report.failed) == (len(INDEXED), 0)
    pages = held(sync, site)
    assert set(pages) == INDEXED
    assert "10 seconds" in pages["/docs/reset"]
    never = ("/internal/", "/drafts/", "/docs/private", "/docs/diagram.png", "/docs/deep/two")
    for path in never:
        assert site.fake.requested(path) == [], f"{path}: robots, pattern, nofollow, depth"
    assert site.fake.requested("/docs/reset") == ["/docs/reset"], "#fragment, redirect: one page"
    assert site.fake.requested("/docs/old-reset"), "a redirect leads to its target, indexed once"
    assert site.fake.requested("/docs/tags") == ["/docs/tags"], "noindex: read for its links"
    assert site.fake.requested("/docs/download"), "a link without an extension is tried"
    [chunk] = [d for d in sync.store.filter_documents() if d.meta["url"].endswith("/docs/wifi")]
    assert chunk.meta["title"] == "Wi-Fi"
    assert chunk.meta["product"] == "Nimbus Hub"


def test_a_recrawl_downloads_only_changed_pages_and_drops_unlinked_ones(
    site: Site, sync: KnowledgeSync
) -> None:
    sync.sync([source(site)])
    site.fake.clear()
    [again] = sync.sync([source(site)])
    assert (again.unchanged, again.added, again.updated, again.deleted) == (len(INDEXED), 0, 0, 0)
    assert again.chunks_embedded == 0
    assert site.bodies_fetched() == [], "every page answered 304; links came from the last crawl"
    assert set(held(sync, site)) == INDEXED, "pages behind 304 pages are still reached"

    site.put("/docs/reset", "Factory reset", "Hold Reset for 5 seconds now.", [a("/docs/")])
    site.fake.clear()
    [changed] = sync.sync([source(site)])
    assert (changed.updated, changed.deleted, changed.unchanged) == (1, 1, len(INDEXED) - 2)
    assert site.bodies_fetched() == ["/docs/reset"]
    pages = held(sync, site)
    assert "5 seconds" in pages["/docs/reset"]
    assert "/docs/wifi" not in pages, "no page links to it any more"


def test_a_page_turning_noindex_or_missing_is_removed(site: Site, sync: KnowledgeSync) -> None:
    sync.sync([source(site)])
    site.put("/docs/wifi", "Wi-Fi", "Moved.", [], robots="noindex, nofollow")
    site.fake.routes["/docs/matter"] = lambda *_: Reply(404, "gone")
    [report] = sync.sync([source(site)])
    assert (report.deleted, report.failed) == (2, 0)
    assert set(held(sync, site)) == INDEXED - {"/docs/wifi", "/docs/matter"}


def test_429_is_waited_out_and_a_broken_page_fails_alone(site: Site, sync: KnowledgeSync) -> None:
    site.fake.failures["/docs/reset"] = [Reply(429, "slow down", {"Retry-After": "1"})]
    [first] = sync.sync([source(site)])
    assert (first.added, first.failed) == (len(INDEXED), 0)
    assert len(site.fake.requested("/docs/reset")) == 2, "retried after Retry-After"

    site.fake.routes["/docs/pairing"] = lambda *_: Reply(500, "boom")
    [report] = sync.sync([source(site)])
    assert (report.failed, report.deleted) == (1, 0)
    assert "/docs/pairing" in report.errors[0]["item"]
    assert set(held(sync, site)) == INDEXED, (
        "the failing page keeps its chunks, and the page behind it is reached by its old links"
    )


def test_a_lost_link_store_costs_downloads_but_no_embedding(
    site: Site, sync: KnowledgeSync, tmp_path: Path
) -> None:
    sync.sync([source(site)])
    [state] = (tmp_path / "crawl").glob("docs-crawl.sqlite")
    state.unlink()
    [report] = sync.sync([source(site)])
    assert (report.unchanged, report.deleted, report.chunks_embedded) == (len(INDEXED), 0, 0)
    assert set(held(sync, site)) == INDEXED


def test_max_pages_and_a_dead_start_page(site: Site, sync: KnowledgeSync) -> None:
    [limited] = sync.sync([source(site, max_pages=3)])
    assert limited.added == 3
    assert set(held(sync, site)) == {"/docs/", "/docs/reset", "/docs/pairing"}, "breadth first"

    site.fake.routes["/docs/"] = lambda *_: Reply(503, "down")
    [down] = sync.sync([source(site, max_pages=3)])
    assert down.deleted == 0, "the start page failed: its old links keep the rest"
    assert len(held(sync, site)) == 3
