"""The one answering path every front end uses (Slack, the web chat, `supportbot ask`).

Front ends only translate between their protocol and this service; what was asked and
answered goes to the exchange log (bot/exchange_log.py), which they are handed too.
Its methods block (Haystack pipelines, the openai client, the database), so async
front ends call them from worker threads.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any, Protocol

import structlog
from haystack import Document
from sqlalchemy.engine import Engine

from finetune_data.curation import store_indexer
from knowledge.answering import Answer, AnswerCancelled, AnsweringService, Turn
from knowledge.scope import Scope
from knowledge.stores import open_document_store
from supportbot.registry import active_model_id
from supportbot.settings import Settings

if TYPE_CHECKING:
    from finetune_data.curation import VerifiedAnswerIndex

log = structlog.stdlib.get_logger(__name__)


class Answerer(Protocol):
    def __call__(
        self,
        question: str,
        *,
        history: Sequence[Turn],
        filters: dict[str, Any] | None,
        on_token: Callable[[str], None] | None,
    ) -> Answer: ...


class Conversation:
    """Answers questions and keeps the record of exchanges and feedback."""

    def __init__(self, settings: Settings, engine: Engine, answerer: Answerer | None = None):
        self.settings = settings
        self.engine = engine
        self._answerer = answerer
        self._service: AnsweringService | None = None
        self._service_lock = threading.Lock()
        self._indexer: VerifiedAnswerIndex | None = None

    # --- answering -------------------------------------------------------------------

    def answer(
        self,
        question: str,
        *,
        history: Sequence[Turn] = (),
        scope: Scope | None = None,
        on_token: Callable[[str], None] | None = None,
        language: str | None = None,
    ) -> Answer:
        """Answer one question (in `language`, by name, when given). Raises ValueError
        for an empty or oversized question."""
        filters = scope.filters if scope else None
        if self._answerer is not None:
            return self._answerer(question, history=history, filters=filters, on_token=on_token)
        return self._answering_service().answer(
            question,
            history=history,
            model_id=active_model_id(self.engine, self.settings.llm_model),
            filters=filters,
            on_token=on_token,
            language=language,
        )

    def search(self, query: str, scope: Scope | None = None, limit: int = 5) -> list[Document]:
        """The best passages for `query` (no answer): what an AI tool reads for itself."""
        return self._answering_service().search(
            query, scope.filters if scope else None, limit=limit
        )

    def warm_up(self) -> None:
        """Load the knowledge base and models now rather than on the first question."""
        if self._answerer is None:
            self._answering_service()

    @property
    def uses_store(self) -> bool:
        """False when answers come from elsewhere (benchmarks, tests)."""
        return self._answerer is None

    def loaded_store(self) -> Any | None:
        """The document store, once answering has loaded it (readiness checks it)."""
        service = self._service
        return service.store if service is not None else None

    def verified_answer_indexer(self) -> VerifiedAnswerIndex | None:
        """Writes approved pairs into the store this process answers from, so they
        count at once; None when answers come from elsewhere (benchmarks)."""
        if self._answerer is not None:
            return None
        if self._indexer is None:
            self._indexer = store_indexer(self.settings, self._answering_service().store)
        return self._indexer

    def _answering_service(self) -> AnsweringService:
        with self._service_lock:
            if self._service is None:
                started = time.perf_counter()
                self._service = AnsweringService(self.settings, open_document_store(self.settings))
                log.info("answering.ready", load_s=round(time.perf_counter() - started, 2))
            return self._service


class AnswerStream:
    """One answer computed on a worker thread, its tokens readable on the event loop:
    `async for token in stream: …`, then `await stream.result()`. Async front ends use
    it so that Slack I/O and HTTP streaming never wait on the blocking pipeline.

    `cancel()` stops the work at its next token (or before it starts, if it is still
    queued), so a dropped client frees its worker instead of holding it to the end."""

    def __init__(
        self,
        conversation: Conversation,
        pool: Executor,
        question: str,
        history: Sequence[Turn] = (),
        scope: Scope | None = None,
        language: str | None = None,
    ) -> None:
        loop = asyncio.get_running_loop()
        self._tokens: asyncio.Queue[str | None] = asyncio.Queue()
        self._cancelled = threading.Event()
        self.stopped = False  # the asker pressed stop (not a dropped connection)
        self.text = ""  # what was produced so far

        def on_token(token: str) -> None:
            if self._cancelled.is_set():
                raise AnswerCancelled
            loop.call_soon_threadsafe(self._tokens.put_nowait, token)

        def work() -> Answer:
            try:
                if self._cancelled.is_set():
                    raise AnswerCancelled
                return conversation.answer(
                    question, history=history, scope=scope, on_token=on_token, language=language
                )
            finally:
                loop.call_soon_threadsafe(self._tokens.put_nowait, None)

        self._future = loop.run_in_executor(pool, work)

    def stop(self) -> None:
        """The asker stopped the answer: what was produced is kept, as stopped."""
        self.stopped = True
        self.cancel()

    def cancel(self) -> None:
        self._cancelled.set()
        # Nobody awaits a cancelled answer: take its AnswerCancelled so asyncio does not
        # report it as an error that was never retrieved.
        self._future.add_done_callback(lambda done: done.cancelled() or done.exception())

    def __aiter__(self) -> AnswerStream:
        return self

    async def __anext__(self) -> str:
        token = await self._tokens.get()
        if token is None:
            raise StopAsyncIteration
        self.text += token
        return token

    async def result(self) -> Answer:
        """The finished answer; raises what the pipeline raised."""
        return await self._future
