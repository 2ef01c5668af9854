"""A docs site or help centre from its sitemap (sitemaps.org protocol: `urlset` and
`sitemapindex`, gzip too), with robots.txt and conditional requests (site.py) and the
sitemap's `lastmod`, so a re-crawl of an unchanged site downloads no page bodies."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from functools import partial
from io import BytesIO
from urllib.parse import urljoin

from lxml import etree

from knowledge.connectors import Entry
from knowledge.connectors.http import HttpError, PoliteClient
from knowledge.connectors.site import SitePages
from knowledge.sources import SourceSpec, SourceUnavailable

MAX_SITEMAP_DEPTH = 3
MAX_SITEMAP_BYTES = 100 * 1024 * 1024  # the protocol's limit (uncompressed: 50 MB) with room
NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


class SitemapConnector(SitePages):
    def __init__(self, source: SourceSpec, http: PoliteClient | None = None) -> None:
        assert source.url
        super().__init__(source, source.url, http)

    def entries(self) -> Iterator[Entry]:
        assert self.source.url
        self.read_robots()
        listed = 0
        for loc, lastmod in self._urls(self.source.url, depth=0):
            if not self.allowed(loc):  # the protocol: same host as the sitemap
                continue
            listed += 1
            if self.source.max_pages and listed > self.source.max_pages:
                return
            version = f"lastmod:{lastmod}" if lastmod else None
            yield Entry(
                item_id=f"{self.source.name}:{loc}",
                version=version,
                fetch=partial(self.fetch_page, loc, version),
            )

    def _urls(self, url: str, depth: int) -> Iterator[tuple[str, str | None]]:
        try:
            response = self.http.get(url)
        except HttpError as error:
            raise SourceUnavailable(f"cannot read the sitemap: {error}") from None
        data = response.content
        if data[:2] == b"\x1f\x8b":
            data = gzip.GzipFile(fileobj=BytesIO(data)).read(MAX_SITEMAP_BYTES)
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        try:
            root = etree.fromstring(data, parser)
        except etree.XMLSyntaxError as error:
            raise SourceUnavailable(f"the sitemap {url} is not valid XML: {error}") from None
        if root.tag == f"{NS}sitemapindex":
            if depth >= MAX_SITEMAP_DEPTH:
                raise SourceUnavailable(f"sitemap indexes nested deeper than {depth}")
            for child in root.iter(f"{NS}sitemap"):
                loc = (child.findtext(f"{NS}loc") or "").strip()
                if loc:
                    yield from self._urls(urljoin(url, loc), depth + 1)
        elif root.tag == f"{NS}urlset":
            for child in root.iter(f"{NS}url"):
                loc = (child.findtext(f"{NS}loc") or "").strip()
                lastmod = (child.findtext(f"{NS}lastmod") or "").strip() or None
                if loc:
                    yield loc, lastmod
        else:
            raise SourceUnavailable(f"{url} is not a sitemap (root element {root.tag})")
