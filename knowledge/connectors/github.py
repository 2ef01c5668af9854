"""Markdown / MDX docs in a GitHub repository (a folder of it, at a branch, tag or
commit) through the REST API: the git tree lists every file with its blob sha, so only
new or changed files are downloaded (`/git/blobs/{sha}`); optionally the releases, as
dated updates. SUPPORTBOT_GITHUB_TOKEN authenticates (private repositories, and 5,000
requests an hour instead of 60); SUPPORTBOT_GITHUB_API_URL points at GitHub Enterprise.
For a local clone, use a `folder` source with `base_url` set to the files' GitHub URL."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from haystack.dataclasses import ByteStream

from knowledge.connectors import ConnectorSecrets, Entry, NotModified
from knowledge.connectors.http import HttpError, PoliteClient
from knowledge.sources import SourceItem, SourceSpec, SourceUnavailable

API = "https://api.github.com"
DOC_EXTENSIONS = (".md", ".mdx", ".markdown")
MDX_CODE = re.compile(r"^(import|export)\s.*$", re.MULTILINE)
HEADING = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)
MAX_RELEASE_PAGES = 50


class GitHubConnector:
    def __init__(
        self,
        source: SourceSpec,
        secrets: ConnectorSecrets | None = None,
        http: PoliteClient | None = None,
    ) -> None:
        assert source.repo
        self.source = source
        self.repo = source.repo
        token = secrets.connector_secret("github_token") if secrets else None
        api = secrets.connector_secret("github_api_url") if secrets else None
        self.api = (api or API).rstrip("/")
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.http = http or PoliteClient(headers=headers)
        self.folder = source.folder.strip("/")

    def entries(self) -> Iterator[Entry]:
        files = self._doc_files()
        for path, sha in files[: self.source.max_pages] if self.source.max_pages else files:
            yield Entry(
                item_id=f"{self.source.name}:{path}",
                version=f"sha:{sha}",
                fetch=lambda _validator, p=path, s=sha: self._file(p, s),
            )
        if self.source.releases:
            for release in self._releases():
                yield Entry(
                    item_id=f"{self.source.name}:release:{release['id']}",
                    # Releases have no updated-at; their text rides in the listing, so
                    # the content hash alone decides, with no request per release.
                    version=None,
                    fetch=lambda _validator, r=release: self._release(r),
                )

    # --- docs ------------------------------------------------------------------

    def _doc_files(self) -> list[tuple[str, str]]:
        url = (
            f"{self.api}/repos/{self.repo}/git/trees/{quote(self.source.ref, safe='')}?recursive=1"
        )
        try:
            tree = self.http.get(url).json()
        except (HttpError, ValueError) as error:
            raise SourceUnavailable(f"cannot list {self.repo}@{self.source.ref}: {error}") from None
        if tree.get("truncated"):  # a partial listing would delete the rest
            raise SourceUnavailable(
                f"{self.repo}'s tree is too large for one listing: set `url` to its docs folder"
            )
        prefix = f"{self.folder}/" if self.folder else ""
        return [
            (entry["path"], entry["sha"])
            for entry in tree.get("tree") or []
            if entry.get("type") == "blob"
            and entry["path"].startswith(prefix)
            and entry["path"].lower().endswith(DOC_EXTENSIONS)
            and self.source.wanted(entry["path"])
        ]

    def _file(self, path: str, sha: str) -> SourceItem | NotModified:
        blob = self.http.get(f"{self.api}/repos/{self.repo}/git/blobs/{sha}").json()
        if blob.get("encoding") != "base64":
            raise ValueError(f"unexpected blob encoding {blob.get('encoding')!r}")
        text = base64.b64decode(blob["content"]).decode("utf-8", errors="replace")
        if path.lower().endswith(".mdx"):
            text = MDX_CODE.sub("", text)  # MDX's import/export lines are code, not docs
        heading = HEADING.search(text)
        return SourceItem(
            source=self.source,
            item_id=f"{self.source.name}:{path}",
            stream=ByteStream(data=text.encode("utf-8"), mime_type="text/markdown"),
            title=heading.group(1) if heading else PurePosixPath(path).stem.replace("-", " "),
            url=self._url_of(path),
            version=f"sha:{sha}",
        )

    def _url_of(self, path: str) -> str:
        if self.source.base_url:
            relative = path[len(self.folder) + 1 :] if self.folder else path
            return f"{self.source.base_url.rstrip('/')}/{relative}"
        return f"https://github.com/{self.repo}/blob/{self.source.ref}/{path}"

    # --- releases --------------------------------------------------------------

    def _releases(self) -> Iterator[dict[str, Any]]:
        url: str | None = f"{self.api}/repos/{self.repo}/releases?per_page=100"
        for _ in range(MAX_RELEASE_PAGES):
            if url is None:
                return
            try:
                response = self.http.get(url)
                releases = response.json()
            except (HttpError, ValueError) as error:
                raise SourceUnavailable(f"cannot list {self.repo}'s releases: {error}") from None
            for release in releases:
                if not release.get("draft") and release.get("published_at"):
                    yield release
            url = response.links.get("next", {}).get("url")

    def _release(self, release: dict[str, Any]) -> SourceItem:
        title = release.get("name") or release.get("tag_name") or f"Release {release['id']}"
        text = f"# {title}\n\n{release.get('body') or ''}"
        return SourceItem(
            source=self.source,
            item_id=f"{self.source.name}:release:{release['id']}",
            stream=ByteStream(data=text.encode("utf-8"), mime_type="text/markdown"),
            title=title,
            url=release.get("html_url"),
            published_at=datetime.fromisoformat(release["published_at"].replace("Z", "+00:00")),
            kind="update",
            version="release:" + hashlib.sha256(text.encode()).hexdigest()[:16],
        )

    def close(self) -> None:
        self.http.close()
