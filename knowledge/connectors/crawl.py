"""A docs site without a sitemap, crawled from its start pages: same host only, breadth
first to `max_depth` links, `include` / `exclude` patterns, `max_pages`, robots.txt
(rules, Crawl-delay, `<meta name="robots">` noindex/nofollow, `rel="nofollow"` links)
and conditional requests (site.py).

Each page's links are kept between crawls (a small SQLite file in the data folder): an
unchanged page answers 304 without a body and its links come from the last crawl, so a
re-crawl downloads only the pages that changed. A page that fails keeps its old links,
so the pages behind it are still reached (and not deleted as vanished).
"""

from __future__ import annotations

import mimetypes
import sqlite3
import threading
from collections import deque
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
import lxml.html
from lxml.etree import ParserError

from knowledge.connectors import FLUSH, GONE, NOT_MODIFIED, Entry, Flush, Gone, NotModified
from knowledge.connectors.http import HttpError, PoliteClient
from knowledge.connectors.site import SitePages
from knowledge.sources import SUPPORTED_EXTENSIONS, SourceItem, SourceSpec, page_mime

MAX_LINKS_PER_PAGE = 2000
READABLE_TYPES = frozenset(SUPPORTED_EXTENSIONS.values())
HTML_TYPES = frozenset({"", "text/html", "application/xhtml+xml"})
REDIRECTS = frozenset({301, 302, 303, 307, 308})


def normalized(url: str) -> str | None:
    """An http(s) URL without its fragment, scheme and host in lower case; None for
    anything else (mailto:, javascript:, a malformed link)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, "")
    )


def readable_link(url: str) -> bool:
    """Whether a link may lead to something we read: a page, or a file of a type we
    convert (not an image, an archive, a video…), judged by its extension before any
    request."""
    guessed, _ = mimetypes.guess_type(urlsplit(url).path)
    return guessed is None or guessed in READABLE_TYPES


def read_links(html: bytes, page_url: str) -> tuple[list[str], bool, bool]:
    """The page's links (absolute, in order, once each), and whether its robots meta
    tag lets us follow them and index the page."""
    try:
        root = lxml.html.fromstring(html)
    except (ParserError, ValueError):
        return [], True, True
    directives = ",".join(
        (meta.get("content") or "").lower()
        for meta in root.iter("meta")
        if (meta.get("name") or "").lower() == "robots"
    )
    follow = "nofollow" not in directives and "none" not in directives
    index = "noindex" not in directives and "none" not in directives
    if not follow:
        return [], False, index
    base = next((b.get("href") for b in root.iter("base") if b.get("href")), None)
    base_url = urljoin(page_url, base) if base else page_url
    links: dict[str, None] = {}
    for anchor in root.iter("a"):
        href = anchor.get("href")
        if not href or "nofollow" in (anchor.get("rel") or "").lower().split():
            continue
        link = normalized(urljoin(base_url, href.strip()))
        if link is not None:
            links[link] = None
        if len(links) >= MAX_LINKS_PER_PAGE:
            break
    return list(links), True, index


class Held(NamedTuple):
    """What the last crawl kept of a page."""

    links: list[str]
    unindexed: str | None  # the validator of a page not indexed (noindex)


class LinkStore:
    """url → the links its page had at the last crawl (and, for a page we do not index,
    its validator: a `noindex` hub page is asked "changed since?" like any other); on
    disk, so a crawl of 50,000 pages does not hold its link graph in memory."""

    def __init__(self, path: Path | None) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS links (url TEXT PRIMARY KEY, links TEXT, unindexed TEXT)"
        )
        self._lock = threading.Lock()

    def get(self, url: str) -> Held | None:
        with self._lock:
            row = self._db.execute(
                "SELECT links, unindexed FROM links WHERE url = ?", (url,)
            ).fetchone()
        return Held(row[0].split("\n") if row[0] else [], row[1]) if row else None

    def put(self, url: str, links: list[str], unindexed_validator: str | None = None) -> None:
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO links VALUES (?, ?, ?)",
                (url, "\n".join(links), unindexed_validator),
            )

    def forget(self, url: str) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM links WHERE url = ?", (url,))

    def close(self) -> None:
        self._db.close()


class CrawlConnector(SitePages):
    def __init__(
        self, source: SourceSpec, state_dir: Path | None, http: PoliteClient | None = None
    ) -> None:
        starts = [u for u in map(normalized, source.start_urls) if u]
        if not starts:
            raise ValueError(f"{source.name}: no http(s) start page")
        super().__init__(source, starts[0], http)
        self.starts = starts
        self.links = LinkStore(state_dir / f"{source.name}.sqlite" if state_dir else None)
        self._found: list[tuple[str, int]] = []  # (link, depth), from pages being fetched
        self._found_lock = threading.Lock()

    def entries(self) -> Iterator[Entry | Flush]:
        self.read_robots()
        frontier = deque((url, 0) for url in self.starts)
        queued = set(self.starts)
        listed = 0
        while frontier:
            while frontier:
                url, depth = frontier.popleft()
                if not self.allowed(url):
                    continue
                listed += 1
                if self.source.max_pages and listed > self.source.max_pages:
                    return
                yield Entry(
                    item_id=f"{self.source.name}:{url}",
                    version=None,  # a crawl has no cheap version: the request is conditional
                    fetch=partial(self._fetch, url, depth),
                )
            yield FLUSH  # the pages above are fetched now; their links are in _found
            with self._found_lock:
                found, self._found = self._found, []
            for url, depth in found:
                if url not in queued and readable_link(url):
                    queued.add(url)
                    frontier.append((url, depth))

    def _follow(self, links: list[str], depth: int) -> None:
        if depth > self.source.max_depth:
            return
        with self._found_lock:
            self._found += [(link, depth) for link in links]

    def _fetch(
        self, url: str, depth: int, validator: str | None
    ) -> SourceItem | NotModified | Gone:
        held = self.links.get(url)
        unindexed = held.unindexed if held and not validator else None
        try:
            # Redirects are links: the page is indexed where it now lives (once), and
            # the redirect costs no body on each crawl.
            response = self.get(url, validator or unindexed, follow_redirects=False)
        except HttpError as error:
            if error.status in (404, 410):
                self.links.forget(url)
                return GONE
            self._follow(held.links if held else [], depth + 1)
            raise
        if response.status_code == 304:
            if held is not None:
                self._follow(held.links, depth + 1)
                return GONE if unindexed else NOT_MODIFIED
            # The link store was lost: read the page again.
            response = self.get(url, None, follow_redirects=False)
        if response.status_code in REDIRECTS:
            target = normalized(urljoin(url, response.headers.get("location", "")))
            if target and target != url:
                self._follow([target], depth)
            return GONE
        return self._page(url, depth, response)

    def _page(self, url: str, depth: int, response: httpx.Response) -> SourceItem | Gone:
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        mime = page_mime(content_type, url)
        if mime == "text/html" and content_type not in HTML_TYPES:
            return GONE  # an image, an archive…: nothing we read (a file we read keeps its type)
        item = self.item(url, response, None)
        if mime != "text/html":
            return item
        links, _, index = read_links(response.content, str(response.url))
        self.links.put(url, links, None if index else (item.validator or None))
        self._follow(links, depth + 1)
        return item if index else GONE

    def close(self) -> None:
        super().close()
        self.links.close()
