"""What the `sitemap` and `crawl` connectors share: one site's robots.txt (RFC 9309: its
rules and Crawl-delay; a 4xx robots.txt allows everything, an unreachable one nothing),
paced requests, and conditional page fetches (ETag / Last-Modified), so a re-crawl of
an unchanged site downloads no page bodies."""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import httpx
from haystack.dataclasses import ByteStream

from knowledge.connectors import NOT_MODIFIED, NotModified
from knowledge.connectors.http import USER_AGENT, HttpError, PoliteClient
from knowledge.sources import (
    SourceItem,
    SourceSpec,
    SourceUnavailable,
    page_metadata,
    page_mime,
)


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


class SitePages:
    """Pages of one site, fetched politely."""

    def __init__(self, source: SourceSpec, start_url: str, http: PoliteClient | None) -> None:
        self.source = source
        self.http = http or PoliteClient()
        parts = urlsplit(start_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.host = parts.netloc
        self.robots = RobotFileParser()
        self.delay_s = 0.0
        self._last_fetch = 0.0
        self._pace = threading.Lock()

    def read_robots(self) -> None:
        url = f"{self.origin}/robots.txt"
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
        self.robots = robots

    def allowed(self, url: str) -> bool:
        """Same host, let through by include/exclude and by robots.txt."""
        return (
            urlsplit(url).netloc == self.host
            and self.source.wanted(url)
            and self.robots.can_fetch(USER_AGENT, url)
        )

    def _wait_turn(self) -> None:
        """Crawl-delay: at most one request per delay, across threads."""
        if not self.delay_s:
            return
        with self._pace:
            wait = self._last_fetch + self.delay_s - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last_fetch = time.monotonic()

    def get(self, url: str, validator: str | None, follow_redirects: bool = True) -> httpx.Response:
        """The page, conditionally when a validator is known (a 304 comes back as is)."""
        self._wait_turn()
        return self.http.get(
            url, headers=conditional_headers(validator), follow_redirects=follow_redirects
        )

    def item(self, url: str, response: httpx.Response, version: str | None) -> SourceItem:
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

    def fetch_page(
        self, url: str, version: str | None, validator: str | None
    ) -> SourceItem | NotModified:
        response = self.get(url, validator)
        if response.status_code == 304:
            return NOT_MODIFIED
        return self.item(url, response, version)

    def close(self) -> None:
        self.http.close()
