"""Incremental, failure-tolerant sync of knowledge sources into the document store.

For each source: list its items with content hashes; embed only new or changed items;
write their chunks; only then delete the chunks they replace and those of items that
disappeared. An item that cannot be read or converted is reported and keeps whatever
it had in the store; a source that cannot be listed at all changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog
from haystack import Document
from haystack.components.fetchers import LinkContentFetcher
from haystack.document_stores.types import DocumentStore
from sqlalchemy.engine import Engine

from knowledge.connectors import Connector, Entry, Flush, Gone, NotModified, open_connector
from knowledge.indexing import Chunker, build_embedding_pipeline
from knowledge.sources import (
    CONNECTOR_TYPES,
    SourceItem,
    SourceSpec,
    SourceUnavailable,
    list_items,
)
from knowledge.stores import persist, source_chunks
from supportbot.db import session_scope
from supportbot.models import SyncRun
from supportbot.settings import Settings

log = structlog.stdlib.get_logger(__name__)

EMBEDDING_BATCH_CHUNKS = 256
FETCH_WINDOW = 32  # connector items fetched together (bodies held at once, at most)
PERSIST_EVERY_BATCHES = 8
# What a sync report counts, in the order the summary shows them.
COUNTS = ("added", "updated", "deleted", "unchanged", "failed", "chunks_embedded")
MAX_RECORDED_ERRORS = 200
# The metadata a sync compares (knowledge/documents.py writes it on every chunk).
SYNC_FIELDS = ("source_id", "content_hash", "source_version", "source_validator")


@dataclass
class SyncReport:
    """What one sync of one source did."""

    source: str
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    failed: int = 0
    chunks_embedded: int = 0
    chunks_deleted: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    duration_s: float = 0.0

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNTS}

    def fail(self, item_id: str, error: str) -> None:
        self.failed += 1
        log.warning("sync.item_failed", source=self.source, item=item_id, error=error)
        if len(self.errors) < MAX_RECORDED_ERRORS:
            self.errors.append({"item": item_id, "error": error[:500]})


@dataclass
class _Pending:
    item: SourceItem
    chunks: list[Document]
    is_new: bool


@dataclass
class _Indexed:
    """What the store holds of one item."""

    content_hash: str
    chunk_ids: list[str]
    version: str | None = None
    validator: str | None = None


# progress(source name, event, amount): event "total" sets the item count, "advance"
# reports items done.
ProgressCallback = Callable[[str, str, int], None]


class KnowledgeSync:
    """Syncs sources into one document store and records each run."""

    def __init__(
        self,
        settings: Settings,
        store: DocumentStore,
        engine: Engine | None = None,
        fetcher: LinkContentFetcher | None = None,
        batch_chunks: int = EMBEDDING_BATCH_CHUNKS,
    ) -> None:
        self.settings = settings
        self.store = store
        self.engine = engine
        self.fetcher = fetcher
        self.batch_chunks = batch_chunks
        self.chunker = Chunker()
        self.embedding = build_embedding_pipeline(settings, store)

    def sync(
        self, sources: list[SourceSpec], progress: ProgressCallback | None = None
    ) -> list[SyncReport]:
        """Sync every source, then persist the store once."""
        try:
            return [self._sync_source(source, progress) for source in sources]
        finally:
            # An interrupted sync loses nothing: what was not persisted is re-done next time.
            persist(self.store)

    def _sync_source(self, source: SourceSpec, progress: ProgressCallback | None) -> SyncReport:
        report = SyncReport(source=source.name)
        started = time.perf_counter()

        def report_progress(event: str, amount: int) -> None:
            if progress is not None:
                progress(source.name, event, amount)

        try:
            self._sync_into(report, source, report_progress)
        except SourceUnavailable as error:
            report.fail(source.name, str(error))
        finally:
            report.duration_s = round(time.perf_counter() - started, 3)
            self._record(report)
        log.info(
            "sync.source_done", source=source.name, duration_s=report.duration_s, **report.counts()
        )
        return report

    # --- the algorithm -----------------------------------------------------------

    def _sync_into(
        self, report: SyncReport, source: SourceSpec, progress: ProgressCallback
    ) -> None:
        if source.type in CONNECTOR_TYPES:
            connector = open_connector(source, self.settings)
            try:
                self._sync_entries(report, source, connector, progress)
            finally:
                connector.close()
            return
        listing = list_items(source, self.fetcher)
        indexed = self._indexed_items(source.name)
        progress("total", len(listing.items) + len(listing.failures))
        for failure in listing.failures:
            report.fail(failure.item_id, failure.error)
            progress("advance", 1)

        stale_chunk_ids: list[str] = []
        batch: list[_Pending] = []
        for item in listing.items:
            previous = indexed.get(item.item_id)
            if previous is not None and previous.content_hash == item.content_hash:
                report.unchanged += 1
                progress("advance", 1)
                continue
            try:
                chunks = self.chunker.chunk(item)
            except Exception as error:  # one bad item never stops the sync
                report.fail(item.item_id, _describe(error))
                progress("advance", 1)
                continue
            batch.append(_Pending(item, chunks, is_new=previous is None))
            if sum(len(p.chunks) for p in batch) >= self.batch_chunks:
                stale_chunk_ids += self._write(batch, indexed, report, progress)
                batch = []
        stale_chunk_ids += self._write(batch, indexed, report, progress)

        kept = {f.item_id for f in listing.failures} | {item.item_id for item in listing.items}
        self._delete(report, stale_chunk_ids, indexed, kept)

    def _sync_entries(
        self,
        report: SyncReport,
        source: SourceSpec,
        connector: Connector,
        progress: ProgressCallback,
    ) -> None:
        """A connector's items, streamed: only items whose version changed are fetched
        (conditionally, when the store holds a validator), `concurrency` at a time; a
        batch of chunks is embedded and written as soon as it fills, and the store is
        persisted every few batches, so a crash resumes where it stopped. Deletions
        happen only after a complete listing."""
        indexed = self._indexed_items(source.name)
        settings_digest = hashlib.sha256(
            json.dumps(source.shared_meta(), sort_keys=True).encode()
        ).hexdigest()[:12]
        seen: set[str] = set()
        failed: set[str] = set()
        stale: list[str] = []
        batch: list[_Pending] = []
        written = 0
        complete = False
        with ThreadPoolExecutor(source.concurrency, thread_name_prefix="sync-fetch") as pool:
            try:
                for window in _windows(connector.entries(), FETCH_WINDOW):
                    fetching = []
                    for entry in window:
                        if entry.item_id in seen:  # listed twice (a sitemap may)
                            continue
                        seen.add(entry.item_id)
                        previous = indexed.get(entry.item_id)
                        version = f"{entry.version}#{settings_digest}" if entry.version else None
                        if previous is not None and version and previous.version == version:
                            report.unchanged += 1
                            progress("advance", 1)
                            continue
                        validator = (
                            previous.validator if previous and previous.content_hash else None
                        )
                        fetching.append(
                            (entry, previous, version, pool.submit(entry.fetch, validator))
                        )
                    for entry, previous, version, future in fetching:
                        try:
                            got = future.result()
                            if isinstance(got, NotModified):
                                report.unchanged += 1
                                progress("advance", 1)
                                continue
                            if isinstance(got, Gone):  # not an item after all: drop what was held
                                seen.discard(entry.item_id)
                                progress("advance", 1)
                                continue
                            got.version = version
                            if previous is not None and previous.content_hash == got.content_hash:
                                report.unchanged += 1
                                progress("advance", 1)
                                continue
                            chunks = self.chunker.chunk(got)
                        except Exception as error:  # one bad item never stops the sync
                            report.fail(entry.item_id, _describe(error))
                            failed.add(entry.item_id)
                            progress("advance", 1)
                            continue
                        batch.append(_Pending(got, chunks, is_new=previous is None))
                        if sum(len(p.chunks) for p in batch) >= self.batch_chunks:
                            stale += self._write(batch, indexed, report, progress)
                            batch = []
                            written += 1
                            if written % PERSIST_EVERY_BATCHES == 0:
                                persist(self.store)  # a crash resumes from here
                complete = True
            except Exception as error:  # the listing failed: keep what was written, delete nothing
                report.fail(source.name, _describe(error))
        stale += self._write(batch, indexed, report, progress)
        # After a partial listing, nothing counts as vanished.
        self._delete(report, stale, indexed, (seen | failed) if complete else set(indexed))

    def _delete(
        self,
        report: SyncReport,
        stale: list[str],
        indexed: dict[str, _Indexed],
        kept: set[str],
    ) -> None:
        """Delete replaced chunks and those of items not `kept` (listed or failed).
        Deletions come last: the new state is already written."""
        stale = list(stale)
        for item_id, held in indexed.items():
            if item_id not in kept:
                stale += held.chunk_ids
                report.deleted += 1
        if stale:
            self.store.delete_documents(stale)
            report.chunks_deleted = len(stale)

    def _write(
        self,
        batch: list[_Pending],
        indexed: dict[str, _Indexed],
        report: SyncReport,
        progress: Callable[[str, int], None],
    ) -> list[str]:
        """Embed and write a batch; returns the chunk ids the batch made stale."""
        if not batch:
            return []
        chunks = [chunk for pending in batch for chunk in pending.chunks]
        try:
            self.embedding.run({"embedder": {"documents": chunks}})
        except Exception as error:  # embedder or store down: these items keep their old chunks
            for pending in batch:
                report.fail(
                    pending.item.item_id, f"embedding or writing failed: {_describe(error)}"
                )
            progress("advance", len(batch))
            return []
        report.chunks_embedded += len(chunks)
        stale: list[str] = []
        for pending in batch:
            if pending.is_new:
                report.added += 1
            else:
                report.updated += 1
                fresh = {chunk.id for chunk in pending.chunks}
                stale += [i for i in indexed[pending.item.item_id].chunk_ids if i not in fresh]
        progress("advance", len(batch))
        return stale

    def _indexed_items(self, source_name: str) -> dict[str, _Indexed]:
        """item id → its content hash, chunk ids, version and validator in the store
        (metadata only: a 50,000-page source's chunks are not loaded to compare them)."""
        indexed: dict[str, _Indexed] = {}
        for chunk_id, meta in source_chunks(self.store, source_name, SYNC_FIELDS):
            item_id = meta.get("source_id")
            if not item_id:
                continue
            held = indexed.setdefault(
                item_id,
                _Indexed(
                    meta.get("content_hash") or "",
                    [],
                    meta.get("source_version"),
                    meta.get("source_validator"),
                ),
            )
            held.chunk_ids.append(chunk_id)
            if (meta.get("content_hash") or "") != held.content_hash:
                # Chunks of two versions (an interrupted sync): force a re-index.
                held.content_hash, held.version, held.validator = "", None, None
        return indexed

    def _record(self, report: SyncReport) -> None:
        if self.engine is None:
            return

        try:
            with session_scope(self.engine) as session:
                session.add(
                    SyncRun(
                        source=report.source,
                        errors=report.errors,
                        started_at=report.started_at,
                        duration_s=report.duration_s,
                        **report.counts(),
                    )
                )
        except Exception as error:  # the sync itself succeeded; losing its record is not fatal
            log.error("sync.record_failed", source=report.source, error=_describe(error))


def _windows(entries: Iterator[Entry | Flush], size: int) -> Iterator[list[Entry]]:
    """Entries `size` at a time; a FLUSH ends a window early (a crawler lists its next
    pages only once the ones before are fetched)."""
    window: list[Entry] = []
    for entry in entries:
        if isinstance(entry, Flush):
            if window:
                yield window
                window = []
            continue
        window.append(entry)
        if len(window) == size:
            yield window
            window = []
    if window:
        yield window


def _describe(error: BaseException) -> str:
    # Pipeline errors wrap the component's own; the innermost message is the useful one.
    cause: BaseException = error
    while cause.__cause__ is not None:
        cause = cause.__cause__
    text = str(cause) or cause.__class__.__name__
    return f"{cause.__class__.__name__}: {text}" if cause is not error else text
