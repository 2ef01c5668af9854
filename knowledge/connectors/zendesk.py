"""Zendesk Help Center articles through its public API (`/api/v2/help_center/{locale}/
articles.json`, cursor pagination with `page[size]`, `meta.has_more` and `links.next`;
offset pagination's `next_page` too), with their section and category as tags. The
listing carries each article's body and `updated_at`, so an unchanged article costs no
request of its own. Anonymous access reads the public help centre; with
SUPPORTBOT_ZENDESK_EMAIL and SUPPORTBOT_ZENDESK_API_TOKEN it reads what that agent may."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from haystack.dataclasses import ByteStream

from knowledge.connectors import ConnectorSecrets, Entry, NotModified, titled_page
from knowledge.connectors.http import HttpError, PoliteClient
from knowledge.sources import SourceItem, SourceSpec, SourceUnavailable

PAGE_SIZE = 100
MAX_PAGES = 10_000  # a loop guard: 1M articles


class ZendeskConnector:
    def __init__(
        self,
        source: SourceSpec,
        secrets: ConnectorSecrets | None = None,
        http: PoliteClient | None = None,
    ) -> None:
        assert source.url
        self.source = source
        self.base = source.url.rstrip("/")
        email = secrets.connector_secret("zendesk_email") if secrets else None
        token = secrets.connector_secret("zendesk_api_token") if secrets else None
        auth = (f"{email}/token", token) if email and token else None
        self.http = http or PoliteClient(auth=auth)

    def entries(self) -> Iterator[Entry]:
        sections = {s["id"]: s for s in self._all("sections")}
        categories = {c["id"]: c for c in self._all("categories")}
        listed = 0
        for article in self._all("articles"):
            if article.get("draft"):
                continue
            url = article.get("html_url") or article.get("url") or ""
            if not self.source.wanted(url):
                continue
            listed += 1
            if self.source.max_pages and listed > self.source.max_pages:
                return
            section = sections.get(article.get("section_id"), {})
            category = categories.get(section.get("category_id"), {})
            tags = [t for t in (category.get("name"), section.get("name")) if t]
            yield Entry(
                item_id=f"{self.source.name}:{article['id']}",
                version=f"updated:{article.get('updated_at')}",
                fetch=lambda _validator, a=article, t=tags: self._item(a, t),
            )

    def _all(self, kind: str) -> Iterator[dict[str, Any]]:
        url: str | None = (
            f"{self.base}/api/v2/help_center/{self.source.locale}/{kind}.json"
            f"?page[size]={PAGE_SIZE}"
        )
        for _ in range(MAX_PAGES):
            if url is None:
                return
            try:
                page = self.http.get(url).json()
            except (HttpError, ValueError) as error:
                raise SourceUnavailable(f"cannot list Zendesk {kind}: {error}") from None
            yield from page.get(kind) or []
            url = _next_page(page)
        raise SourceUnavailable(f"Zendesk {kind}: more than {MAX_PAGES} pages")

    def _item(self, article: dict[str, Any], tags: list[str]) -> SourceItem | NotModified:
        body = article.get("body")
        if body is None:
            raise ValueError("the article has no body")
        updated = _date(article.get("updated_at"))
        title = article.get("title") or article.get("name") or ""
        page = titled_page(title, body)
        return SourceItem(
            source=self.source,
            item_id=f"{self.source.name}:{article['id']}",
            stream=ByteStream(data=page.encode("utf-8"), mime_type="text/html"),
            title=title or None,
            url=article.get("html_url"),
            published_at=updated if self.source.kind == "update" else None,
            version=f"updated:{article.get('updated_at')}",
            tags=tags,
        )

    def close(self) -> None:
        self.http.close()


def _next_page(page: dict[str, Any]) -> str | None:
    meta, links = page.get("meta") or {}, page.get("links") or {}
    if "has_more" in meta:
        return links.get("next") if meta.get("has_more") else None
    return page.get("next_page")


def _date(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
