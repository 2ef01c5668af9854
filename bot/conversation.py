"""The one answering path every front end uses: answer, record, rate, hand off.

Front ends (Slack, web chat) only translate between their protocol and this service.
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

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from finetune_data.curation import store_indexer
from knowledge.answering import Answer, AnswerCancelled, AnsweringService, Turn
from knowledge.exchanges import record_exchange
from knowledge.scope import Scope
from knowledge.stores import open_document_store
from supportbot.db import session_scope
from supportbot.models import Exchange, Feedback, Rating, Surface
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
    ) -> Answer:
        """Answer one question. Raises ValueError for an empty or oversized question."""
        filters = scope.filters if scope else None
        if self._answerer is not None:
            return self._answerer(question, history=history, filters=filters, on_token=on_token)
        return self._answering_service().answer(
            question,
            history=history,
            model_id=active_model_id(self.engine, self.settings.llm_model),
            filters=filters,
            on_token=on_token,
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

    # --- the record ------------------------------------------------------------------

    def record(
        self,
        answer: Answer,
        surface: Surface,
        *,
        total_ms: float | None = None,
        error: str | None = None,
        scope: Scope | None = None,
        **context: Any,
    ) -> int:
        return record_exchange(
            self.engine,
            answer,
            surface,
            total_ms=total_ms,
            error=error,
            scope=scope.stored() if scope else None,
            **context,
        )

    def set_reply_ts(self, exchange_id: int, reply_ts: str) -> None:
        with session_scope(self.engine) as session:
            exchange = session.get(Exchange, exchange_id)
            if exchange is not None:
                exchange.reply_ts = reply_ts

    def exchange(self, exchange_id: int) -> Exchange | None:
        with Session(self.engine) as session:
            return session.get(Exchange, exchange_id)

    def exchange_for_reply(self, channel_id: str, reply_ts: str) -> Exchange | None:
        with Session(self.engine) as session:
            return session.exec(
                select(Exchange).where(
                    Exchange.channel_id == channel_id, Exchange.reply_ts == reply_ts
                )
            ).first()

    def latest_exchange_id(self, conversation_id: str) -> int | None:
        with Session(self.engine) as session:
            return session.exec(
                select(Exchange.id)
                .where(Exchange.conversation_id == conversation_id)
                .order_by(col(Exchange.id).desc())
                .limit(1)
            ).first()

    def has_exchanges(self, conversation_id: str) -> bool:
        with Session(self.engine) as session:
            found = session.exec(
                select(Exchange.id).where(Exchange.conversation_id == conversation_id).limit(1)
            ).first()
        return found is not None

    def thread_products(self, conversation_id: str) -> tuple[str, ...]:
        """The products the conversation's latest scoped answer was for."""
        with Session(self.engine) as session:
            labels = session.exec(
                select(Exchange.scope)
                .where(Exchange.conversation_id == conversation_id)
                .where(col(Exchange.scope).is_not(None))
                .order_by(col(Exchange.id).desc())
                .limit(1)
            ).all()
        return Scope.from_stored(labels[0]).products if labels else ()

    def history(self, conversation_id: str, limit: int = 6) -> list[Turn]:
        """Earlier questions and answers of a conversation, oldest first."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(Exchange)
                .where(Exchange.conversation_id == conversation_id)
                .order_by(col(Exchange.id).desc())
                .limit(limit)
            ).all()
        turns: list[Turn] = []
        for row in reversed(rows):
            turns += [Turn("user", row.question), Turn("assistant", row.answer)]
        return turns

    def escalated(self, limit: int = 200) -> list[Exchange]:
        """Exchanges handed to a person, newest first."""
        with Session(self.engine) as session:
            return list(
                session.exec(
                    select(Exchange)
                    .where(col(Exchange.escalated).is_(True))
                    .order_by(col(Exchange.id).desc())
                    .limit(limit)
                ).all()
            )

    # --- feedback and hand-off ---------------------------------------------------------

    def rate(
        self,
        exchange_id: int,
        user_id: str | None,
        rating: Rating,
        *,
        reason: str | None = None,
        correction: str | None = None,
        from_lead: bool = False,
    ) -> int | None:
        """Record a rating; a person's later rating of the same answer replaces theirs.

        Returns the feedback id, or None when the exchange does not exist.
        """
        with session_scope(self.engine) as session:
            if session.get(Exchange, exchange_id) is None:
                log.warning("feedback.unknown_exchange", exchange_id=exchange_id)
                return None
            feedback = None
            if user_id is not None:
                feedback = session.exec(
                    select(Feedback).where(
                        Feedback.exchange_id == exchange_id, Feedback.user_id == user_id
                    )
                ).first()
            if feedback is None:
                feedback = Feedback(exchange_id=exchange_id, user_id=user_id, rating=rating)
                session.add(feedback)
            feedback.rating = rating
            feedback.from_lead = feedback.from_lead or from_lead
            if reason is not None:
                feedback.reason = reason
            if correction is not None:
                feedback.correction = correction
            session.flush()
            feedback_id = feedback.id
        log.info("feedback.recorded", exchange_id=exchange_id, rating=rating.value)
        return feedback_id

    def withdraw_rating(self, exchange_id: int, user_id: str, rating: Rating) -> bool:
        """Remove a bare rating (one without a reason or correction) someone took back."""
        with session_scope(self.engine) as session:
            feedback = session.exec(
                select(Feedback).where(
                    Feedback.exchange_id == exchange_id,
                    Feedback.user_id == user_id,
                    Feedback.rating == rating,
                )
            ).first()
            if feedback is None or feedback.reason or feedback.correction:
                return False
            session.delete(feedback)
        return True

    def escalate(self, exchange_id: int, contact: str | None = None) -> bool:
        """Mark an exchange as handed to a human (with how to reach the asker, from the
        web); False if it already was (or is unknown)."""
        # One conditional UPDATE, so two clicks at once hand off once.
        with self.engine.begin() as connection:
            changed = connection.execute(
                sa.update(Exchange)
                .where(col(Exchange.id) == exchange_id, col(Exchange.escalated).is_(False))
                .values(escalated=True, contact=contact)
            ).rowcount
        if not changed:
            return False
        log.info("exchange.escalated", exchange_id=exchange_id)
        return True


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
    ) -> None:
        loop = asyncio.get_running_loop()
        self._tokens: asyncio.Queue[str | None] = asyncio.Queue()
        self._cancelled = threading.Event()
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
                    question, history=history, scope=scope, on_token=on_token
                )
            finally:
                loop.call_soon_threadsafe(self._tokens.put_nowait, None)

        self._future = loop.run_in_executor(pool, work)

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
