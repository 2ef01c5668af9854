"""Knowledge sources: what to index, declared in a YAML file, and the items each yields.

A source is a folder of manuals, an RSS/Atom feed, or a list of web pages. Listing a
source produces `SourceItem`s, each with a stable id and a content hash, so sync can
tell new, changed, unchanged and vanished items apart without embedding anything.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import mimetypes
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from time import struct_time
from typing import Any, Literal
from urllib.parse import urlsplit

import feedparser
import yaml
from haystack.components.fetchers import LinkContentFetcher
from haystack.dataclasses import ByteStream
from pydantic import BaseModel, Field, ValidationError, model_validator
from trafilatura import extract_metadata

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# File types the indexing pipeline can convert, by extension.
SUPPORTED_EXTENSIONS = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".html": "text/html",
    ".htm": "text/html",
    ".pdf": "application/pdf",
    ".docx": DOCX_MIME,
    ".txt": "text/plain",
}

SourceKind = Literal["manual", "update"]


class SourcesFileError(ValueError):
    """The sources file is missing or invalid; the message says what and where."""


class SourceSpec(BaseModel):
    """One entry of the sources file."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)
    kind: SourceKind
    type: Literal[
        "folder", "feed", "web", "sitemap", "crawl", "zendesk", "confluence", "github", "notion"
    ]
    path: Path | None = None
    url: str | None = None
    urls: list[str] = Field(default_factory=list)
    product: str | None = None
    tags: list[str] = Field(default_factory=list)
    base_url: str | None = Field(
        default=None, description="Public URL of a folder's files, for citation links."
    )
    schedule: str | None = Field(
        default=None,
        description='When the scheduler syncs this source ("every 2h", a crontab line, or '
        '"off"); default: by kind, from settings.',
    )
    # Connectors (sitemap, zendesk, github): see knowledge/connectors/.
    include: list[str] = Field(
        default_factory=list, description="Regular expressions; only matching URLs/paths."
    )
    exclude: list[str] = Field(
        default_factory=list, description="Regular expressions; matching URLs/paths skipped."
    )
    max_pages: int | None = Field(default=None, ge=1, description="At most this many items.")
    max_depth: int = Field(
        default=5, ge=0, le=50, description="Crawl: links followed from the start pages."
    )
    concurrency: int = Field(default=4, ge=1, le=16, description="Parallel requests.")
    locale: str = Field(default="en-us", description="Zendesk Help Center locale.")
    space: str | None = Field(default=None, description="Confluence space key.")
    repo: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$",
        description="GitHub owner/name.",
    )
    ref: str = Field(default="main", description="GitHub branch, tag or commit.")
    folder: str = Field(
        default="",
        pattern=r"^[^.][^\\]*$|^$",
        description="GitHub: the docs folder in the repository.",
    )
    releases: bool = Field(
        default=False, description="GitHub: also index releases, as dated updates."
    )
    root: str | None = Field(
        default=None,
        pattern=r"^[0-9a-fA-F-]{32,36}$",
        description="Notion: only this page and the pages under it (its id).",
    )

    @model_validator(mode="after")
    def _location_matches_type(self) -> SourceSpec:
        if self.type == "folder" and self.path is None:
            raise ValueError("a folder source needs `path`")
        if self.type == "feed" and not (self.url or self.path):
            raise ValueError("a feed source needs `url` (or `path` for a local feed file)")
        if self.type == "web" and not self.urls:
            raise ValueError("a web source needs `urls`")
        if self.type in ("sitemap", "zendesk") and not self.url:
            raise ValueError(f"a {self.type} source needs `url`")
        if self.type == "crawl" and not (self.url or self.urls):
            raise ValueError("a crawl source needs `url` (the start page) or `urls`")
        if self.type == "crawl" and len({urlsplit(u).netloc for u in self.start_urls}) > 1:
            raise ValueError("a crawl source's start pages must be on one host")
        if self.type == "confluence" and not (self.url and self.space):
            raise ValueError("a confluence source needs `url` and `space`")
        if self.type == "github" and not self.repo:
            raise ValueError("a github source needs `repo` (owner/name)")
        for pattern in [*self.include, *self.exclude]:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"bad pattern {pattern!r}: {error}") from None
        return self

    @property
    def start_urls(self) -> list[str]:
        """A crawl's start pages."""
        return ([self.url] if self.url else []) + list(self.urls)

    def wanted(self, location: str) -> bool:
        """Whether include/exclude let a URL or path through."""
        if self.include and not any(re.search(p, location) for p in self.include):
            return False
        return not any(re.search(p, location) for p in self.exclude)

    def shared_meta(self) -> dict[str, Any]:
        """Metadata every chunk of this source carries."""
        return {
            "source": self.name,
            "kind": self.kind,
            "product": self.product,
            "tags": list(self.tags),
        }


class ProductSpec(BaseModel):
    """A product's other names, for detecting it in questions (see knowledge/products.py)."""

    name: str = Field(min_length=1, max_length=100)
    aliases: list[str] = Field(default_factory=list)


class SourcesFile(BaseModel):
    sources: list[SourceSpec]
    products: list[ProductSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> SourcesFile:
        names = [source.name for source in self.sources]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"source names must be unique; repeated: {', '.join(duplicates)}")
        return self


SAMPLE_SOURCES_FILE = Path(__file__).resolve().parent / "sample" / "sources.yaml"


def resolve_sources_file(sources_file: Path | None, data_dir: Path) -> Path:
    """The sources file in force: the configured one, else data_dir/sources.yaml, else
    the sample knowledge shipped with supportbot (so the quick start has something)."""
    if sources_file is not None:
        return sources_file
    own = data_dir / "sources.yaml"
    return own if own.is_file() else SAMPLE_SOURCES_FILE


def load_sources(path: Path) -> list[SourceSpec]:
    """Read and validate a sources file; relative paths are taken from its folder."""
    return load_sources_file(path).sources


def load_sources_file(path: Path) -> SourcesFile:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise SourcesFileError(f"sources file not found: {path}") from error
    except yaml.YAMLError as error:
        raise SourcesFileError(f"{path} is not valid YAML: {error}") from error
    try:
        parsed = SourcesFile.model_validate(raw if raw is not None else {"sources": []})
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise SourcesFileError(f"{path}: {problems}") from error
    for source in parsed.sources:
        if source.path is not None and not source.path.is_absolute():
            source.path = (path.parent / source.path).resolve()
    return parsed


@dataclass
class SourceItem:
    """One document of a source: a file, a feed entry, a web page."""

    source: SourceSpec
    item_id: str
    stream: ByteStream
    title: str | None = None
    url: str | None = None
    published_at: datetime | None = None
    version: str | None = None  # the service's own version (not hashed: see documents.py)
    validator: str | None = None  # the HTTP validator of the fetch that got it
    tags: list[str] = field(default_factory=list)  # the item's own, besides its source's
    kind: SourceKind | None = None  # the item's own kind, when not its source's
    content_hash: str = field(init=False)

    def __post_init__(self) -> None:
        # Metadata that ends up on chunks is part of the hash, so retagging a source
        # or a new publish date re-indexes its items.
        digest = hashlib.sha256(self.stream.data)
        digest.update(json.dumps(self._descriptive_meta(), sort_keys=True).encode())
        self.content_hash = digest.hexdigest()

    def _descriptive_meta(self) -> dict[str, Any]:
        shared = self.source.shared_meta()
        if self.kind is not None:
            shared["kind"] = self.kind
        if self.tags:
            shared["tags"] = [*shared["tags"], *(t for t in self.tags if t not in shared["tags"])]
        return {
            **shared,
            "title": self.title,
            "url": self.url,
            "published_at": self.published_at.isoformat() if self.published_at else None,
        }

    def meta(self) -> dict[str, Any]:
        meta = {
            **self._descriptive_meta(),
            "source_id": self.item_id,
            "content_hash": self.content_hash,
        }
        if self.version is not None:
            meta["source_version"] = self.version
        if self.validator is not None:
            meta["source_validator"] = self.validator
        return meta


@dataclass
class ItemFailure:
    """An item that could not be read or converted; reported, never fatal."""

    item_id: str
    error: str


@dataclass
class Listing:
    items: list[SourceItem] = field(default_factory=list)
    failures: list[ItemFailure] = field(default_factory=list)


class SourceUnavailable(RuntimeError):
    """The source as a whole cannot be listed (missing folder, dead feed)."""


CONNECTOR_TYPES = ("sitemap", "crawl", "zendesk", "confluence", "github", "notion")


def list_items(source: SourceSpec, fetcher: LinkContentFetcher | None = None) -> Listing:
    if source.type in CONNECTOR_TYPES:
        raise ValueError(f"{source.type} sources are synced through knowledge.connectors")
    if source.type == "folder":
        return _list_folder(source)
    fetcher = fetcher or default_fetcher()
    if source.type == "feed":
        return _list_feed(source, fetcher)
    return _list_web(source, fetcher)


def default_fetcher() -> LinkContentFetcher:
    return LinkContentFetcher(raise_on_failure=True, retry_attempts=2, timeout=20)


def _title_from_filename(path: Path) -> str:
    return path.stem.replace("_", " ").replace("-", " ").strip().capitalize()


_MARKDOWN_H1 = re.compile(r"^#\s+(.+?)\s*#*\s*$", flags=re.MULTILINE)


def _file_title(path: Path, data: bytes) -> str:
    """A document's own title (Markdown H1, HTML <title>), else one made from its name."""
    suffix = path.suffix.lower()
    if suffix in {".md", ".markdown"}:
        match = _MARKDOWN_H1.search(data.decode("utf-8", errors="replace"))
        if match:
            return match.group(1)
    elif suffix in {".html", ".htm"}:
        title, _ = page_metadata(ByteStream(data=data))
        if title:
            return title
    return _title_from_filename(path)


def _iter_supported_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if (
            path.is_file()
            and not any(part.startswith(".") for part in path.relative_to(root).parts)
            and path.suffix.lower() in SUPPORTED_EXTENSIONS
        ):
            yield path


def _list_folder(source: SourceSpec) -> Listing:
    root = source.path
    assert root is not None
    if not root.is_dir():
        raise SourceUnavailable(f"folder not found: {root}")
    listing = Listing()
    for path in _iter_supported_files(root):
        relative = path.relative_to(root).as_posix()
        item_id = f"{source.name}:{relative}"
        try:
            data = path.read_bytes()
        except OSError as error:
            listing.failures.append(ItemFailure(item_id, f"cannot read file: {error}"))
            continue
        stream = ByteStream(data=data, mime_type=SUPPORTED_EXTENSIONS[path.suffix.lower()])
        stream.meta["file_path"] = str(path)
        url = f"{source.base_url.rstrip('/')}/{relative}" if source.base_url else None
        published = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        listing.items.append(
            SourceItem(
                source=source,
                item_id=item_id,
                stream=stream,
                title=_file_title(path, data),
                url=url,
                # Manuals are undated by nature; updates take their file date.
                published_at=published if source.kind == "update" else None,
            )
        )
    return listing


def _entry_date(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed"):
        parsed: struct_time | None = entry.get(key)
        if parsed:
            return datetime(*parsed[:6], tzinfo=UTC)
    return None


def _list_feed(source: SourceSpec, fetcher: LinkContentFetcher) -> Listing:
    if source.path is not None:
        if not source.path.is_file():
            raise SourceUnavailable(f"feed file not found: {source.path}")
        raw = source.path.read_bytes()
    else:
        try:
            raw = fetcher.run(urls=[source.url])["streams"][0].data
        except Exception as error:  # the fetcher raises whatever httpx raised
            raise SourceUnavailable(f"cannot fetch feed {source.url}: {error}") from error
    feed = feedparser.parse(raw)
    if feed.bozo and not feed.entries:
        raise SourceUnavailable(f"not a valid RSS/Atom feed: {feed.bozo_exception}")
    listing = Listing()
    for entry in feed.entries:
        entry_key = entry.get("id") or entry.get("link") or entry.get("title")
        if not entry_key:
            listing.failures.append(ItemFailure(f"{source.name}:?", "feed entry without id"))
            continue
        item_id = f"{source.name}:{entry_key}"
        html = (entry.get("content") or [{}])[0].get("value") or entry.get("summary", "")
        if not html.strip():
            listing.failures.append(ItemFailure(item_id, "feed entry has no content"))
            continue
        title = entry.get("title")
        body = f"<html><body><h1>{title}</h1>{html}</body></html>" if title else html
        listing.items.append(
            SourceItem(
                source=source,
                item_id=item_id,
                stream=ByteStream(data=body.encode("utf-8"), mime_type="text/html"),
                title=title,
                url=entry.get("link"),
                published_at=_entry_date(entry),
            )
        )
    return listing


def page_metadata(stream: ByteStream) -> tuple[str | None, datetime | None]:
    """A web page's title and date: from its markup (via trafilatura), else Last-Modified."""

    try:
        metadata = extract_metadata(stream.data.decode("utf-8", errors="replace"))
    except Exception:  # trafilatura is defensive but not infallible on odd markup
        metadata = None
    title = metadata.title if metadata is not None else None
    if metadata is not None and metadata.date:
        try:
            return title, datetime.fromisoformat(metadata.date).replace(tzinfo=UTC)
        except ValueError:
            pass
    headers = {k.lower(): v for k, v in (stream.meta.get("headers") or {}).items()}
    try:
        modified = parsedate_to_datetime(headers["last-modified"]).astimezone(UTC)
    except (KeyError, TypeError, ValueError):
        modified = None
    return title, modified


def page_mime(content_type: str | None, url: str) -> str:
    """A fetched page's type: its Content-Type when we convert it, else its URL's
    extension, else HTML."""
    mime = (content_type or "").split(";")[0].strip()
    if mime in SUPPORTED_EXTENSIONS.values():
        return mime
    guessed, _ = mimetypes.guess_type(urlsplit(url).path)
    return guessed if guessed in SUPPORTED_EXTENSIONS.values() else "text/html"


def _list_web(source: SourceSpec, fetcher: LinkContentFetcher) -> Listing:
    listing = Listing()
    for url in source.urls:
        item_id = f"{source.name}:{url}"
        try:
            stream = fetcher.run(urls=[url])["streams"][0]
        except Exception as error:
            listing.failures.append(ItemFailure(item_id, f"cannot fetch page: {error}"))
            continue
        mime = page_mime(stream.mime_type, url)
        stream = dataclasses.replace(stream, mime_type=mime)
        title, published = page_metadata(stream) if mime == "text/html" else (None, None)
        listing.items.append(
            SourceItem(
                source=source,
                item_id=item_id,
                stream=stream,
                title=title or url,
                url=url,
                published_at=published,
            )
        )
    return listing
