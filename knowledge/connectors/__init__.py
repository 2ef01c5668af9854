"""Connectors: sources that live in a service (a docs site's sitemap or its links, a
Zendesk Help Center, a GitHub repository), synced through the same incremental sync as
files.

A connector streams `Entry`s: an item id, the service's own cheap version of the item
(its updated-at, a git blob sha, a sitemap lastmod: None when it has none), and a
`fetch(validator)` that gets the item (the stored HTTP validator makes the request
conditional: `NOT_MODIFIED` comes back instead of a body). Sync fetches only items whose
version changed, so a re-sync of an unchanged source downloads no bodies, and it never
holds more than a batch of bodies in memory. A crawler lists pages it finds in the
pages just fetched: it yields `FLUSH` to have those fetched before it lists more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Protocol

from knowledge.sources import SourceItem, SourceSpec


def titled_page(title: str, fragment: str) -> str:
    """An article body (an HTML fragment) as a page with its title: the HTML converter
    reads it like any help-centre page (it skips fragments too short to be a page)."""
    return (
        f"<html><head><title>{escape(title)}</title></head><body><article>"
        f"<h1>{escape(title)}</h1>{fragment}</article></body></html>"
    )


class NotModified:
    """The item is as it was (HTTP 304)."""


NOT_MODIFIED = NotModified()


class Gone:
    """The item turned out not to be one (a 404 link, a `noindex` page, a file type we
    do not read): nothing is indexed, and what the store held of it is deleted."""


GONE = Gone()


class Flush:
    """A listing's marker: fetch the entries listed so far before listing more."""


FLUSH = Flush()


@dataclass
class Entry:
    item_id: str
    version: str | None
    fetch: Callable[[str | None], SourceItem | NotModified | Gone]


class Connector(Protocol):
    def entries(self) -> Iterator[Entry | Flush]:
        """Every item of the source; raises SourceUnavailable when the listing fails."""
        ...

    def close(self) -> None: ...


class ConnectorSecrets(Protocol):
    """What connectors read from settings (tokens never live in sources.yaml), and where
    a connector may keep state between syncs (a crawler's links)."""

    def connector_secret(self, name: str) -> str | None: ...

    @property
    def resolved_data_dir(self) -> Path: ...


def open_connector(source: SourceSpec, secrets: ConnectorSecrets | None = None) -> Connector:
    if source.type == "sitemap":
        from knowledge.connectors.sitemap import SitemapConnector

        return SitemapConnector(source)
    if source.type == "crawl":
        from knowledge.connectors.crawl import CrawlConnector

        state = secrets.resolved_data_dir / "crawl" if secrets is not None else None
        return CrawlConnector(source, state)
    if source.type == "zendesk":
        from knowledge.connectors.zendesk import ZendeskConnector

        return ZendeskConnector(source, secrets)
    if source.type == "confluence":
        from knowledge.connectors.confluence import ConfluenceConnector

        return ConfluenceConnector(source, secrets)
    if source.type == "github":
        from knowledge.connectors.github import GitHubConnector

        return GitHubConnector(source, secrets)
    if source.type == "notion":
        from knowledge.connectors.notion import NotionConnector

        return NotionConnector(source, secrets)
    raise ValueError(f"no connector for {source.type!r} sources")
