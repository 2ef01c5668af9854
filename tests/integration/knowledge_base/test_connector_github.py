"""The `github` connector against a local server answering with the REST API's
documented shapes: `GET /repos/{owner}/{repo}/git/trees/{ref}?recursive=1`,
`GET /repos/{owner}/{repo}/git/blobs/{sha}` (base64), `GET /repos/{owner}/{repo}/releases`
with `Link` pagination, and the rate limit's 403 with `x-ratelimit-remaining: 0`."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from knowledge.sources import SourceSpec
from knowledge.sync import KnowledgeSync
from tests.support.service_fake import Reply, ServiceFake, service_fake
from tests.support.stores import chunks_by_item

REPO = "nimbus/hub-docs"


def git_sha(text: str) -> str:
    data = text.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # noqa: S324 - git's own


class Repository:
    def __init__(self, fake: ServiceFake) -> None:
        self.fake = fake
        self.files = {
            "docs/reset.md": "# Factory reset\n\nHold Reset for 10 seconds.\n",
            "docs/pairing.mdx": (
                "import Tip from '../Tip'\n\n# Pairing\n\nPress Pair, then the sensor's button.\n"
            ),
            "docs/images/diagram.png": "not docs",
            "README.md": "# The docs repository\n\nNot under docs/.\n",
        }
        self.releases = [
            {
                "id": 7,
                "tag_name": "v3.2.0",
                "name": "Firmware 3.2",
                "draft": False,
                "prerelease": False,
                "created_at": "2026-10-13T08:00:00Z",
                "published_at": "2026-10-14T09:00:00Z",
                "html_url": f"https://github.com/{REPO}/releases/tag/v3.2.0",
                "body": "Factory reset now takes 10 seconds instead of 15.",
            },
            {
                "id": 8,
                "tag_name": "v3.3.0-rc1",
                "name": "3.3 draft",
                "draft": True,
                "prerelease": True,
                "created_at": "2026-11-01T08:00:00Z",
                "published_at": None,
                "html_url": f"https://github.com/{REPO}/releases/tag/v3.3.0-rc1",
                "body": "Not yet.",
            },
            {
                "id": 6,
                "tag_name": "v3.1.0",
                "name": "Firmware 3.1",
                "draft": False,
                "prerelease": False,
                "created_at": "2026-08-01T08:00:00Z",
                "published_at": "2026-08-02T09:00:00Z",
                "html_url": f"https://github.com/{REPO}/releases/tag/v3.1.0",
                "body": "The hub supports 250 devices.",
            },
        ]
        fake.routes[f"/repos/{REPO}/git/trees/main"] = self.tree
        fake.routes[f"/repos/{REPO}/releases"] = self.list_releases
        self.blob_routes()

    @staticmethod
    def json(payload: Any, headers: dict[str, str] | None = None) -> Reply:
        return Reply(
            200, json.dumps(payload), {"Content-Type": "application/json", **(headers or {})}
        )

    def blob_routes(self) -> None:
        for text in self.files.values():
            sha = git_sha(text)
            self.fake.routes[f"/repos/{REPO}/git/blobs/{sha}"] = lambda *_, t=text, s=sha: (
                self.json(
                    {
                        "sha": s,
                        "node_id": "B_kw",
                        "size": len(t),
                        "url": f"{self.fake.url}/repos/{REPO}/git/blobs/{s}",
                        "content": base64.b64encode(t.encode()).decode(),
                        "encoding": "base64",
                    }
                )
            )

    def tree(self, *_: Any) -> Reply:
        entries = [
            {
                "path": path,
                "mode": "100644",
                "type": "blob",
                "sha": git_sha(text),
                "size": len(text),
                "url": f"{self.fake.url}/repos/{REPO}/git/blobs/{git_sha(text)}",
            }
            for path, text in self.files.items()
        ]
        entries.append(
            {
                "path": "docs",
                "mode": "040000",
                "type": "tree",
                "sha": "d" * 40,
                "url": f"{self.fake.url}/repos/{REPO}/git/trees/{'d' * 40}",
            }
        )
        return self.json(
            {
                "sha": "c" * 40,
                "url": f"{self.fake.url}/repos/{REPO}/git/trees/main",
                "tree": entries,
                "truncated": False,
            }
        )

    def list_releases(self, path: str, _headers: dict[str, str]) -> Reply:
        page = 2 if "page=2" in path else 1
        items = self.releases[:2] if page == 1 else self.releases[2:]
        link = (
            {
                "Link": f'<{self.fake.url}/repos/{REPO}/releases?per_page=100&page=2>; rel="next", '
                f'<{self.fake.url}/repos/{REPO}/releases?per_page=100&page=2>; rel="last"'
            }
            if page == 1
            else {}
        )
        return self.json(items, link)

    def blobs_fetched(self) -> list[str]:
        return self.fake.requested(f"/repos/{REPO}/git/blobs/")


@pytest.fixture
def repository() -> Iterator[Repository]:
    with service_fake() as fake:
        yield Repository(fake)


@pytest.fixture
def connector_settings(repository: Repository) -> dict[str, object]:
    return {"github_api_url": repository.fake.url, "github_token": "ghp_test0123456789abcdef"}


def source(**extra: Any) -> SourceSpec:
    return SourceSpec(name="gh", kind="manual", type="github", repo=REPO, folder="docs", **extra)


def held(sync: KnowledgeSync) -> dict[str, list]:
    return chunks_by_item(sync.store, "gh")


def test_docs_and_releases_are_synced_with_links_dates_and_kinds(
    repository: Repository, sync: KnowledgeSync
) -> None:
    [report] = sync.sync([source(releases=True)])
    assert (report.added, report.failed) == (4, 0)
    found = held(sync)
    assert set(found) == {"gh:docs/reset.md", "gh:docs/pairing.mdx", "gh:release:7", "gh:release:6"}
    reset = found["gh:docs/reset.md"][0]
    assert reset.meta["url"] == f"https://github.com/{REPO}/blob/main/docs/reset.md"
    assert reset.meta["kind"] == "manual"
    assert "import Tip" not in "".join(d.content for d in found["gh:docs/pairing.mdx"])
    release = found["gh:release:7"][0]
    assert release.meta["kind"] == "update"
    assert release.meta["published_at"].startswith("2026-10-14")
    assert "10 seconds instead of 15" in release.content
    assert all(
        h.get("authorization") == "Bearer ghp_test0123456789abcdef"
        for _, h in repository.fake.requests
    )


def test_a_resync_downloads_only_changed_files_and_drops_deleted_ones(
    repository: Repository, sync: KnowledgeSync
) -> None:
    sync.sync([source()])
    repository.fake.clear()
    [again] = sync.sync([source()])
    assert (again.unchanged, again.chunks_embedded) == (2, 0)
    assert repository.blobs_fetched() == [], "same blob sha: nothing downloaded"

    repository.files["docs/reset.md"] = "# Factory reset\n\nHold Reset for 5 seconds.\n"
    del repository.files["docs/pairing.mdx"]
    repository.blob_routes()
    repository.fake.clear()
    [changed] = sync.sync([source()])
    assert (changed.updated, changed.deleted) == (1, 1)
    assert repository.blobs_fetched() == [
        f"/repos/{REPO}/git/blobs/{git_sha(repository.files['docs/reset.md'])}"
    ]
    assert "5 seconds" in held(sync)["gh:docs/reset.md"][0].content
    assert "gh:docs/pairing.mdx" not in held(sync)


def test_the_rate_limit_is_waited_out_and_a_broken_file_fails_alone(
    repository: Repository, sync: KnowledgeSync
) -> None:
    reset_at = str(int(time.time()) + 1)
    repository.fake.failures[f"/repos/{REPO}/git/trees/main"] = [
        Reply(
            403,
            json.dumps({"message": "API rate limit exceeded"}),
            {
                "x-ratelimit-limit": "60",
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": reset_at,
            },
        )
    ]
    broken = git_sha(repository.files["docs/pairing.mdx"])
    repository.fake.routes[f"/repos/{REPO}/git/blobs/{broken}"] = lambda *_: Reply(
        200,
        json.dumps({"sha": broken, "content": "???", "encoding": "utf-16"}),
        {"Content-Type": "application/json"},
    )
    [report] = sync.sync([source()])
    assert (report.added, report.failed) == (1, 1)
    assert report.errors[0]["item"] == "gh:docs/pairing.mdx"
    assert len(repository.fake.requested(f"/repos/{REPO}/git/trees/main")) == 2
