"""Incremental, failure-tolerant sync of knowledge sources into the document store.

For each source: list its items with content hashes; embed only new or changed items;
write their chunks; only then delete the chunks they replace and those of items that
disappeared. An item that cannot be read or converted is reported and keeps whatever
it had in the store; a source that cannot be listed at all changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog
from haystack import Document
from haystack.components.fetchers import LinkContentFetcher
from haystack.document_stores.types import DocumentStore
from sqlalchemy.engine import Engine

from knowledge.indexing import Chunker, build_embedding_pipeline
from knowledge.sources import (
    SourceItem,
    SourceSpec,
    SourceUnavailable,
    list_items,
)
from knowledge.stores import persist
from supportbot.db import session_scope
from supportbot.models import SyncRun
from supportbot.settings import Settings

log = structlog.stdlib.get_logger(__name__)

EMBEDDING_BATCH_CHUNKS = 256
# What a sync report counts, in the order the summary shows them.
COUNTS = ("added", "updated", "deleted", "unchanged", "failed", "chunks_embedded")
MAX_RECORDED_ERRORS = 200


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
            if previous is not None and previous[0] == item.content_hash:
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

        failed_ids = {f.item_id for f in listing.failures}
        listed_ids = {item.item_id for item in listing.items}
        for item_id, (_hash, chunk_ids) in indexed.items():
            if item_id not in listed_ids and item_id not in failed_ids:
                stale_chunk_ids += chunk_ids
                report.deleted += 1
        # Deletions come last: the new state is already written.
        if stale_chunk_ids:
            self.store.delete_documents(stale_chunk_ids)
            report.chunks_deleted = len(stale_chunk_ids)

    def _write(
        self,
        batch: list[_Pending],
        indexed: dict[str, tuple[str, list[str]]],
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
                stale += [i for i in indexed[pending.item.item_id][1] if i not in fresh]
        progress("advance", len(batch))
        return stale

    def _indexed_items(self, source_name: str) -> dict[str, tuple[str, list[str]]]:
        """item id → (content hash, chunk ids) of what the store holds for a source."""
        indexed: dict[str, tuple[str, list[str]]] = {}
        documents = self.store.filter_documents(
            {"field": "meta.source", "operator": "==", "value": source_name}
        )
        for document in documents:
            item_id = document.meta.get("source_id")
            if not item_id:
                continue
            content_hash, chunk_ids = indexed.setdefault(
                item_id, (document.meta.get("content_hash", ""), [])
            )
            chunk_ids.append(document.id)
            if document.meta.get("content_hash") != content_hash:
                # Chunks of two versions (an interrupted sync): force a re-index.
                indexed[item_id] = ("", chunk_ids)
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


def _describe(error: BaseException) -> str:
    # Pipeline errors wrap the component's own; the innermost message is the useful one.
    cause: BaseException = error
    while cause.__cause__ is not None:
        cause = cause.__cause__
    text = str(cause) or cause.__class__.__name__
    return f"{cause.__class__.__name__}: {text}" if cause is not error else text
