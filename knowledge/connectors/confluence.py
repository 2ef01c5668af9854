"""Confluence Cloud and Data Center pages of one space through the REST API
(`/rest/api/content?spaceKey=…&type=page`, offset pagination with `_links.next`): the
listing carries each page's version number and ancestors (its place in the page tree,
kept as the title's path), so only pages whose version changed are fetched with their
body (`/rest/api/content/{id}?expand=body.storage,version`). Cloud: `url` is
`https://SITE.atlassian.net/wiki`, with SUPPORTBOT_CONFLUENCE_EMAIL and
SUPPORTBOT_CONFLUENCE_API_TOKEN; Data Center: the server's URL and a personal access
token in SUPPORTBOT_CONFLUENCE_API_TOKEN alone. Attachments are not indexed.

(No client library: atlassian-python-api would bring its own retry rules; this shares
the connectors' HTTP client, which honours Retry-After the same way everywhere.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urljoin

from haystack.dataclasses import ByteStream

from knowledge.connectors import ConnectorSecrets, Entry, NotModified, titled_page
from knowledge.connectors.http import HttpError, PoliteClient
from knowledge.sources import SourceItem, SourceSpec, SourceUnavailable

PAGE_SIZE = 50
MAX_PAGES = 10_000


class ConfluenceConnector:
    def __init__(
        self,
        source: SourceSpec,
        secrets: ConnectorSecrets | None = None,
        http: PoliteClient | None = None,
    ) -> None:
        assert source.url
        assert source.space
        self.source = source
        self.base = source.url.rstrip("/")
        email = secrets.connector_secret("confluence_email") if secrets else None
        token = secrets.connector_secret("confluence_api_token") if secrets else None
        headers: dict[str, str] = {"Accept": "application/json"}
        auth = None
        if token and email:
            auth = (email, token)  # Cloud: basic auth with an API token
        elif token:
            headers["Authorization"] = f"Bearer {token}"  # Data Center: a PAT
        self.http = http or PoliteClient(headers=headers, auth=auth)

    def entries(self) -> Iterator[Entry]:
        listed = 0
        for page in self._pages():
            path = [a.get("title", "") for a in page.get("ancestors") or []]
            webui = (page.get("_links") or {}).get("webui", "")
            url = urljoin(f"{self.base}/", webui.lstrip("/")) if webui else None
            if not self.source.wanted(" / ".join([*path, page.get("title", "")])):
                continue
            listed += 1
            if self.source.max_pages and listed > self.source.max_pages:
                return
            version = (page.get("version") or {}).get("number")
            yield Entry(
                item_id=f"{self.source.name}:{page['id']}",
                version=f"v{version}" if version is not None else None,
                fetch=lambda _v, p=page, a=path, u=url: self._page(p, a, u),
            )

    def _pages(self) -> Iterator[dict[str, Any]]:
        query = urlencode(
            {
                "spaceKey": self.source.space,
                "type": "page",
                "status": "current",
                "expand": "version,ancestors",
                "limit": PAGE_SIZE,
                "start": 0,
            }
        )
        url: str | None = f"{self.base}/rest/api/content?{query}"
        for _ in range(MAX_PAGES):
            if url is None:
                return
            try:
                listing = self.http.get(url).json()
            except (HttpError, ValueError) as error:
                raise SourceUnavailable(f"cannot list Confluence space: {error}") from None
            yield from listing.get("results") or []
            following = (listing.get("_links") or {}).get("next")
            url = self._absolute(following) if following else None
        raise SourceUnavailable(f"Confluence: more than {MAX_PAGES} listing pages")

    def _absolute(self, link: str) -> str:
        """`_links.next` is relative to the API's base (Cloud's includes /wiki)."""
        if link.startswith("http"):
            return link
        root = self.base.removesuffix("/wiki") if link.startswith("/wiki/") else self.base
        return f"{root}{link}"

    def _page(
        self, page: dict[str, Any], ancestors: list[str], url: str | None
    ) -> SourceItem | NotModified:
        full = self.http.get(
            f"{self.base}/rest/api/content/{page['id']}?expand=body.storage,version"
        ).json()
        storage = ((full.get("body") or {}).get("storage") or {}).get("value")
        if storage is None:
            raise ValueError("the page has no storage-format body")
        title = full.get("title") or page.get("title") or ""
        html = titled_page(title, storage)
        version = (full.get("version") or {}).get("number")
        return SourceItem(
            source=self.source,
            item_id=f"{self.source.name}:{page['id']}",
            stream=ByteStream(data=html.encode("utf-8"), mime_type="text/html"),
            # The page tree as the title's path: "Hub > Setup > Factory reset".
            title=" > ".join([*ancestors, title]) if ancestors else title,
            url=url,
            version=f"v{version}" if version is not None else None,
        )

    def close(self) -> None:
        self.http.close()
