"""weaviate-haystack's document store, connecting safely and failing fast (imported only
when Weaviate is the store: the client, gRPC and all, takes ~0.7 s to load).

Three defects of the integration and the client, found by the production drill:

* its lazy `client` property stores the new client before connecting it, so a second
  thread asking at that moment got an unconnected client ("The `WeaviateClient` is
  closed"): a fresh replica's first concurrent questions failed;
* a connection that failed (Weaviate down when the bot started) stayed stored, so the
  store never worked again without a restart;
* the client retries an unreachable server with exponential back-off for about a
  minute (hard-coded), so every question waited 63 s before it was handed off.

Here the connection is made once, under a lock, and a client that is not connected is
replaced on the next use. Searches for someone waiting go through `interactive()`:
within a deadline, and, once Weaviate is known to be down, refused at once until its
readiness endpoint answers again (then on a fresh connection).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as DeadlineExceeded
from typing import Any, TypeVar

import httpx
import structlog
from haystack_integrations.document_stores.weaviate import WeaviateDocumentStore

log = structlog.stdlib.get_logger(__name__)

T = TypeVar("T")
PROBE_TIMEOUT_S = 1.0


class WeaviateUnavailable(RuntimeError):
    """Weaviate cannot answer now; the caller should say so rather than wait."""


class ConnectingWeaviateDocumentStore(WeaviateDocumentStore):
    def __init__(self, *, deadline_s: float = 5.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.deadline_s = deadline_s
        self._connecting = threading.Lock()
        self._down_since: float | None = None
        self._reconnected = False  # since it went down
        # Searches run here so a caller can stop waiting; the client's own retries may
        # keep a thread busy for a minute, never the event loop's default executor.
        self._searches = ThreadPoolExecutor(max_workers=8, thread_name_prefix="weaviate-search")

    @property
    def client(self) -> Any:
        with self._connecting:
            if self._client is not None and self._client.is_connected():
                return self._client
            self._drop_client()  # a failed or dropped connection: start afresh
            try:
                return WeaviateDocumentStore.client.fget(self)
            except Exception:
                self._drop_client()
                raise

    @property
    def collection(self) -> Any:
        client = self.client
        with self._connecting:
            if self._collection is None:
                collection = client.collections.get(self._collection_settings["class"])
                _add_missing_properties(collection, self._collection_settings["properties"])
                self._collection = collection
            return self._collection

    def source_chunks(
        self, source: str, fields: tuple[str, ...]
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """(document id, `fields`) of each chunk of a source: a cursor over the
        collection without vectors or text. `filter_documents` pages with offsets, which
        Weaviate refuses beyond QUERY_MAXIMUM_RESULTS (10,000 chunks), and downloads
        every vector."""
        wanted = ["_original_id", "source", *fields]
        for obj in self.collection.iterator(include_vector=False, return_properties=wanted):
            properties = obj.properties
            if properties.get("source") == source:
                yield str(properties.get("_original_id")), properties

    def interactive(self, work: Callable[[], T]) -> T:
        """`work()` for someone waiting: within `deadline_s`, and refused at once while
        Weaviate is known to be down."""
        if self._down_since is not None:
            if not self.ready():
                raise WeaviateUnavailable("Weaviate is unreachable")
            with self._connecting:  # back: a fresh channel, not one backing off
                if not self._reconnected:
                    self._drop_client()
                    self._reconnected = True
        search = self._searches.submit(work)
        try:
            result = search.result(timeout=self.deadline_s)
        except DeadlineExceeded:
            search.cancel()
            self._went_down(f"no answer in {self.deadline_s:g}s")
            raise WeaviateUnavailable(f"Weaviate did not answer in {self.deadline_s:g}s") from None
        except Exception as error:
            if not self.ready():
                self._went_down(type(error).__name__)
            raise
        if self._down_since is not None:
            log.info("weaviate.back", down_s=round(time.monotonic() - self._down_since, 1))
            self._down_since = None
        return result

    def ready(self) -> bool:
        """Weaviate's readiness endpoint, asked with a short timeout."""
        try:
            response = httpx.get(f"{self._url}/v1/.well-known/ready", timeout=PROBE_TIMEOUT_S)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def _went_down(self, why: str) -> None:
        if self._down_since is None:
            log.error("weaviate.unreachable", why=why)
            self._down_since = time.monotonic()
        self._reconnected = False

    def _drop_client(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            except Exception as error:  # closing a broken client may fail too
                log.debug("weaviate.close_failed", error=type(error).__name__)
        self._client, self._collection = None, None


def _add_missing_properties(collection: Any, wanted: list[dict[str, Any]]) -> None:
    """A collection created by an older release lacks the metadata fields added since
    (e.g. source_version): add them, so new chunks keep them. Weaviate adds properties
    to a live collection; existing objects simply have them unset."""
    from weaviate.classes.config import DataType, Property, Tokenization

    types = {
        "text": DataType.TEXT,
        "text[]": DataType.TEXT_ARRAY,
        "date": DataType.DATE,
        "int": DataType.INT,
        "number": DataType.NUMBER,
        "blob": DataType.BLOB,
    }
    try:
        have = {prop.name for prop in collection.config.get().properties}
        for field in wanted:
            if field["name"] in have or field["name"].startswith("_"):
                continue
            tokenization = Tokenization.FIELD if field.get("tokenization") == "field" else None
            collection.config.add_property(
                Property(
                    name=field["name"],
                    data_type=types[field["dataType"][0]],
                    tokenization=tokenization,
                )
            )
            log.info("weaviate.property_added", property=field["name"])
    except Exception as error:  # the store still works; new fields may be dropped
        log.error("weaviate.schema_update_failed", error=f"{type(error).__name__}: {error}")
