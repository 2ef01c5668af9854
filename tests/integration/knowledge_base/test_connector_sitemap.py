"""The `sitemap` connector against a locally served docs site: a sitemap index with a
gzipped child (sitemaps.org shapes), robots.txt, ETags and lastmod; incremental
re-crawls, deletions, 429 with Retry-After, one broken page isolated."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import pytest

from knowledge.sources import SourceSpec
from knowledge.sync import KnowledgeSync
from tests.support.service_fake import ConditionalPages, Reply, ServiceFake, service_fake
from tests.support.stores import chunks_by_item

ROBOTS = "User-agent: *\nDisallow: /internal/\n"


def page(title: str, text: str) -> str:
    return (
        f"<html><head><title>{title}</title></head><body><main><h1>{title}</h1>"
        f"<p>{text}</p></main></body></html>"
    )


class Site(ConditionalPages):
    """Pages by path: (html, etag); the sitemap lists `listed` (with `lastmod` for some)."""

    def __init__(self, fake: ServiceFake) -> None:
        super().__init__(fake)
        self.pages = {
            "/docs/reset": (
                page("Factory reset", "Hold Reset for 10 seconds to reset the hub."),
                '"r1"',
            ),
            "/docs/pairing": (
                page("Pairing sensors", "Press Pair on the hub, then on the sensor."),
                '"p1"',
            ),
            "/docs/wifi": (page("Wi-Fi", "The hub joins 2.4 GHz networks only."), '"w1"'),
            "/blog/matter": (
                page("Matter support", "Firmware 3.2 adds Matter 1.4 bridging."),
                '"m1"',
            ),
            "/internal/secret": (page("Internal", "Not for crawlers."), '"i1"'),
            "/drafts/new": (page("Draft", "Excluded by pattern."), '"d1"'),
        }
        self.lastmod = {"/docs/wifi": "2026-10-01"}
        self.listed = list(self.pages)
        fake.routes["/robots.txt"] = lambda *_: Reply(200, ROBOTS, {"Content-Type": "text/plain"})
        fake.routes["/sitemap.xml"] = lambda *_: Reply(
            200, self.index(), {"Content-Type": "application/xml"}
        )
        fake.routes["/sitemap-docs.xml"] = lambda *_: Reply(
            200, self.urlset("/docs/", "/internal/", "/drafts/")
        )
        fake.routes["/sitemap-blog.xml.gz"] = lambda *_: Reply(
            200, gzip.compress(self.urlset("/blog/").encode()), {"Content-Type": "application/gzip"}
        )
        for path in self.pages:
            fake.routes[path] = self.serve

    def index(self) -> str:
        children = "".join(
            f"<sitemap><loc>{self.fake.url}{name}</loc></sitemap>"
            for name in ("/sitemap-docs.xml", "/sitemap-blog.xml.gz")
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{children}</sitemapindex>'
        )

    def urlset(self, *prefixes: str) -> str:
        urls = ""
        for path in self.listed:
            if not path.startswith(prefixes):
                continue
            lastmod = f"<lastmod>{self.lastmod[path]}</lastmod>" if path in self.lastmod else ""
            urls += f"<url><loc>{self.fake.url}{path}</loc>{lastmod}</url>"
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
        )


@pytest.fixture
def site() -> Iterator[Site]:
    with service_fake() as fake:
        yield Site(fake)


def source(site: Site) -> SourceSpec:
    return SourceSpec(
        name="docs-site",
        kind="manual",
        type="sitemap",
        url=f"{site.fake.url}/sitemap.xml",
        exclude=[r"/drafts/"],
        product="Nimbus Hub",
    )


def items(sync: KnowledgeSync) -> dict[str, str]:
    """item id → the text of its chunks."""
    return {
        item: "".join(d.content or "" for d in chunks)
        for item, chunks in chunks_by_item(sync.store, "docs-site").items()
    }


def test_a_site_is_crawled_from_its_sitemap_honouring_robots_and_patterns(
    site: Site, sync: KnowledgeSync
) -> None:
    [report] = sync.sync([source(site)])
    assert (report.added, report.failed) == (4, 0)
    held = items(sync)
    url = site.fake.url
    assert set(held) == {
        f"docs-site:{url}{p}"
        for p in ("/docs/reset", "/docs/pairing", "/docs/wifi", "/blog/matter")
    }
    assert "10 seconds" in held[f"docs-site:{url}/docs/reset"]
    assert site.fake.requested("/internal/") == [], "robots.txt disallows it"
    assert site.fake.requested("/drafts/") == [], "the exclude pattern skips it"
    [chunk] = [
        d for d in sync.store.filter_documents() if d.meta["source_id"].endswith("/docs/wifi")
    ][:1]
    assert chunk.meta["url"] == f"{url}/docs/wifi"
    assert chunk.meta["title"] == "Wi-Fi"
    assert chunk.meta["product"] == "Nimbus Hub"


def test_a_recrawl_fetches_only_changed_pages_and_drops_vanished_ones(
    site: Site, sync: KnowledgeSync
) -> None:
    sync.sync([source(site)])
    site.fake.clear()
    [again] = sync.sync([source(site)])
    assert (again.unchanged, again.added, again.updated, again.chunks_embedded) == (4, 0, 0, 0)
    assert site.bodies_fetched() == [], "ETags and lastmod: no page body downloaded"
    assert site.fake.requested("/docs/wifi") == [], "an unchanged lastmod is not even asked"

    site.pages["/docs/reset"] = (page("Factory reset", "Hold Reset for 5 seconds now."), '"r2"')
    site.listed.remove("/docs/pairing")
    site.fake.clear()
    [changed] = sync.sync([source(site)])
    assert (changed.updated, changed.deleted, changed.unchanged) == (1, 1, 2)
    assert site.bodies_fetched() == ["/docs/reset"]
    held = items(sync)
    assert "5 seconds" in held[f"docs-site:{site.fake.url}/docs/reset"]
    assert f"docs-site:{site.fake.url}/docs/pairing" not in held


def test_429_is_waited_out_and_a_broken_page_fails_alone(site: Site, sync: KnowledgeSync) -> None:
    site.fake.failures["/docs/reset"] = [Reply(429, "slow down", {"Retry-After": "1"})]
    site.fake.routes["/docs/pairing"] = lambda *_: Reply(500, "boom")
    [report] = sync.sync([source(site)])
    assert (report.added, report.failed) == (3, 1)
    assert "/docs/pairing" in report.errors[0]["item"]
    assert len(site.fake.requested("/docs/reset")) == 2, "retried after Retry-After"
    assert f"docs-site:{site.fake.url}/docs/reset" in items(sync)


def test_a_sitemap_that_cannot_be_read_deletes_nothing(site: Site, sync: KnowledgeSync) -> None:
    sync.sync([source(site)])
    site.fake.routes["/sitemap-blog.xml.gz"] = lambda *_: Reply(404, "gone")
    [report] = sync.sync([source(site)])
    assert report.deleted == 0
    assert report.failed == 1
    assert "sitemap" in report.errors[0]["error"]
    assert len(items(sync)) == 4
