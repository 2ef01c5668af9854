"""A docs site or help centre from its sitemap (sitemaps.org protocol: `urlset` and
`sitemapindex`, gzip too), honouring robots.txt (RFC 9309: its rules and Crawl-delay;
a 4xx robots.txt allows everything, an unreachable one nothing), with conditional
requests (ETag / Last-Modified) and the sitemap's `lastmod`, so a re-crawl of an
unchanged site downloads no page bodies."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from functools import partial
from io import BytesIO
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

from haystack.dataclasses import ByteStream
from lxml import etree

from knowledge.connectors import NOT_MODIFIED, Entry, NotModified
from knowledge.connectors.http import USER_AGENT, HttpError, PoliteClient
from knowledge.sources import (
    SourceItem,
    SourceSpec,
    SourceUnavailable,
    page_metadata,
    page_mime,
)

MAX_SITEMAP_DEPTH = 3
MAX_SITEMAP_BYTES = 100 * 1024 * 1024  # the protocol's limit (uncompressed: 50 MB) with room
NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def validator_of(headers: dict[str, str] | object) -> str | None:
    """What to send next time to ask "changed since?": the ETag, else Last-Modified."""
    get = headers.get  # type: ignore[attr-defined]
    if get("etag"):
        return f"etag:{get('etag')}"
    if get("last-modified"):
        return f"modified:{get('last-modified')}"
    return None


def conditional_headers(validator: str | None) -> dict[str, str]:
    if not validator:
        return {}
    kind, _, value = validator.partition(":")
    if kind == "etag":
        return {"If-None-Match": value}
    if kind == "modified":
        return {"If-Modified-Since": value}
    return {}


class SitemapConnector:
    def __init__(self, source: SourceSpec, http: PoliteClient | None = None) -> None:
        assert source.url
        self.source = source
        self.http = http or PoliteClient()
        self.host = urlsplit(source.url).netloc
        self.robots: RobotFileParser | None = None
        self.delay_s = 0.0
        self._last_fetch = 0.0
        self._pace = threading.Lock()
        self.fetches = 0  # page requests made (a benchmark counts bodies from this)
        self.bodies = 0  # of which returned a body (not 304)

    # --- listing ---------------------------------------------------------------

    def entries(self) -> Iterator[Entry]:
        assert self.source.url
        self.robots = self._robots()
        listed = 0
        for loc, lastmod in self._urls(self.source.url, depth=0):
            if urlsplit(loc).netloc != self.host:  # the protocol: same host as the sitemap
                continue
            if not self.source.wanted(loc) or not self.robots.can_fetch(USER_AGENT, loc):
                continue
            listed += 1
            if self.source.max_pages and listed > self.source.max_pages:
                return
            yield Entry(
                item_id=f"{self.source.name}:{loc}",
                version=f"lastmod:{lastmod}" if lastmod else None,
                fetch=partial(self._fetch, loc, f"lastmod:{lastmod}" if lastmod else None),
            )

    def _robots(self) -> RobotFileParser:
        parts = urlsplit(self.source.url or "")
        url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        robots = RobotFileParser(url)
        try:
            response = self.http.get(url)
            robots.parse(response.text.splitlines())
        except HttpError as error:
            if error.status is not None and 400 <= error.status < 500:
                robots.allow_all = True  # no robots.txt: everything may be fetched
            else:
                raise SourceUnavailable(f"robots.txt unreachable ({error}): not crawling") from None
        delay = robots.crawl_delay(USER_AGENT)
        self.delay_s = float(delay) if delay else 0.0
        return robots

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

    # --- pages -----------------------------------------------------------------

    def _wait_turn(self) -> None:
        """Crawl-delay: at most one request per delay, across threads."""
        if not self.delay_s:
            return
        with self._pace:
            wait = self._last_fetch + self.delay_s - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last_fetch = time.monotonic()

    def _fetch(
        self, url: str, version: str | None, validator: str | None
    ) -> SourceItem | NotModified:
        self._wait_turn()
        self.fetches += 1
        response = self.http.get(url, headers=conditional_headers(validator))
        if response.status_code == 304:
            return NOT_MODIFIED
        self.bodies += 1
        mime = page_mime(response.headers.get("content-type"), url)
        stream = ByteStream(
            data=response.content,
            mime_type=mime,
            meta={"url": url, "headers": dict(response.headers)},
        )
        title, published = page_metadata(stream) if mime == "text/html" else (None, None)
        return SourceItem(
            source=self.source,
            item_id=f"{self.source.name}:{url}",
            stream=stream,
            title=title or url,
            url=url,
            published_at=published if self.source.kind == "update" else None,
            version=version,
            validator=validator_of(response.headers),
        )

    def close(self) -> None:
        self.http.close()
