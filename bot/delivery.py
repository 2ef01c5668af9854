"""Never lose a question: its life is in the database, whatever happens to a process.

Every question (Slack or web) is recorded when it is heard, in the same transaction
that claims it against Slack's retries, with the replica that owns it. Replicas beat
a heartbeat; a question still open (received or answering) whose owner went silent or
stopped is taken over by one live replica (a conditional UPDATE, so exactly one) and
answered, or handed to a person when it is too old to answer late. On SIGTERM a
replica stops taking work, lets in-flight answers finish within a grace period and
says it stopped, so the rest are resumed at once rather than after the silence.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col, select

from supportbot.models import (
    QuestionRecord,
    QuestionState,
    Replica,
    SlackEvent,
    Surface,
    utcnow,
)
from supportbot.settings import Settings

log = structlog.stdlib.get_logger(__name__)

Resumer = Callable[[QuestionRecord], Awaitable[None]]


def claim_keys(connection: sa.Connection, keys: Sequence[str]) -> None:
    """Claim `keys` in the caller's transaction; raises IntegrityError when one was
    claimed before (the primary key makes it atomic on SQLite and PostgreSQL alike)."""
    for key in dict.fromkeys(key[:64] for key in keys if key):
        connection.execute(sa.insert(SlackEvent).values(event_id=key))


def replica_name() -> str:
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Ledger:
    """The database side: record, claim, move through states, find the orphans."""

    def __init__(self, engine: Engine, replica_id: str, stale_after_s: float) -> None:
        self.engine = engine
        self.replica_id = replica_id
        self.stale_after = timedelta(seconds=stale_after_s)

    def receive(self, question: QuestionRecord, keys: Sequence[str] = ()) -> int | None:
        """Record a new question owned by this replica; None when one of `keys` was
        claimed before (a retry or the same message as another event)."""
        question.owner = self.replica_id
        try:
            with Session(self.engine) as session:
                claim_keys(session.connection(), keys)
                session.add(question)
                session.commit()
                return question.id
        except IntegrityError:
            return None

    def start(self, question_id: int, scope: dict[str, Any] | None) -> None:
        self._update(question_id, state=QuestionState.ANSWERING, scope=scope, scope_chosen=True)

    def replied(self, question_id: int, reply_ts: str) -> None:
        """The answer's message exists: a resumed answer edits it instead of posting again."""
        self._update(question_id, reply_ts=reply_ts)

    def finish(
        self,
        question_id: int,
        state: QuestionState,
        *,
        exchange_id: int | None = None,
        error: str | None = None,
    ) -> bool:
        values: dict[str, object] = {"state": state}
        if exchange_id is not None:
            values["exchange_id"] = exchange_id
        if error is not None:
            values["error"] = error[:2000]
        return self._update(question_id, **values)

    def _update(self, question_id: int, **values: object) -> bool:
        # Only while this replica still owns it: one declared dead and then back must
        # not overwrite the replica that took its question over.
        with self.engine.begin() as connection:
            changed = connection.execute(
                sa.update(QuestionRecord)
                .where(
                    col(QuestionRecord.id) == question_id,
                    col(QuestionRecord.owner) == self.replica_id,
                )
                .values(updated_at=utcnow(), **values)
            ).rowcount
        return bool(changed)

    def get(self, question_id: int) -> QuestionRecord | None:
        with Session(self.engine) as session:
            return session.get(QuestionRecord, question_id)

    # --- replicas ----------------------------------------------------------------------

    def heartbeat(self) -> None:
        now = utcnow()
        with self.engine.begin() as connection:
            changed = connection.execute(
                sa.update(Replica)
                .where(col(Replica.id) == self.replica_id)
                .values(heartbeat_at=now, stopped_at=None)
            ).rowcount
            if not changed:
                connection.execute(
                    sa.insert(Replica).values(id=self.replica_id, started_at=now, heartbeat_at=now)
                )

    def leave(self) -> None:
        """Say this replica stopped, so its open questions are resumed without waiting."""
        with self.engine.begin() as connection:
            connection.execute(
                sa.update(Replica)
                .where(col(Replica.id) == self.replica_id)
                .values(stopped_at=utcnow())
            )

    def orphans(self, limit: int = 100) -> list[QuestionRecord]:
        """Open questions whose owner is neither this replica nor alive."""
        alive = select(Replica.id).where(
            col(Replica.stopped_at).is_(None),
            col(Replica.heartbeat_at) >= utcnow() - self.stale_after,
        )
        with Session(self.engine) as session:
            return list(
                session.exec(
                    select(QuestionRecord)
                    .where(col(QuestionRecord.state).in_(QuestionState.open()))
                    .where(
                        sa.or_(
                            col(QuestionRecord.owner).is_(None),
                            col(QuestionRecord.owner).not_in(alive),
                        )
                    )
                    .order_by(col(QuestionRecord.id))
                    .limit(limit)
                ).all()
            )

    def take_over(self, question: QuestionRecord) -> bool:
        """Claim an orphan for this replica; False when another replica was first."""
        owner = col(QuestionRecord.owner)
        previous = owner.is_(None) if question.owner is None else owner == question.owner
        with self.engine.begin() as connection:
            changed = connection.execute(
                sa.update(QuestionRecord)
                .where(
                    col(QuestionRecord.id) == question.id,
                    previous,
                    col(QuestionRecord.state).in_(QuestionState.open()),
                )
                .values(
                    owner=self.replica_id,
                    attempts=QuestionRecord.attempts + 1,
                    updated_at=utcnow(),
                )
            ).rowcount
        if changed:
            question.owner = self.replica_id
        return bool(changed)

    def prune(self, keep: timedelta = timedelta(days=7)) -> int:
        """Forget stopped or long-silent replicas (their questions are resumed by then)."""
        cutoff = utcnow() - keep
        with self.engine.begin() as connection:
            return (
                connection.execute(
                    sa.delete(Replica).where(col(Replica.heartbeat_at) < cutoff)
                ).rowcount
                or 0
            )


class Delivery:
    """The process side: heartbeat, resuming orphans, and a graceful stop."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.ledger = Ledger(engine, replica_name(), settings.delivery_stale_after_s)
        self.max_age = timedelta(seconds=settings.delivery_max_age_s)
        self.resumers: dict[Surface, Resumer] = {}
        self.accepting = True
        self._in_flight: set[asyncio.Task[object]] = set()
        self._loop: asyncio.Task[None] | None = None

    @property
    def replica_id(self) -> str:
        return self.ledger.replica_id

    def too_old(self, question: QuestionRecord) -> bool:
        return utcnow() - question.received_at > self.max_age

    @contextlib.contextmanager
    def working(self) -> Iterator[None]:
        """Marks the current task as an in-flight answer that a graceful stop waits for."""
        task = asyncio.current_task()
        if task is None:
            yield
            return
        self._in_flight.add(task)
        try:
            yield
        finally:
            self._in_flight.discard(task)

    # --- life cycle ----------------------------------------------------------------------

    async def start(self) -> None:
        try:
            await asyncio.to_thread(self.ledger.heartbeat)
            pruned = await asyncio.to_thread(self.ledger.prune)
            if pruned:
                log.info("delivery.replicas_pruned", replicas=pruned)
        except SQLAlchemyError as error:
            log.error("delivery.database_unavailable", error=type(error).__name__)
        self._loop = asyncio.create_task(self._beat(), name="delivery-heartbeat")
        log.info("delivery.started", replica=self.replica_id)

    async def stop(self, grace_s: float) -> None:
        """Take no new work, give in-flight answers `grace_s`, leave the rest."""
        self.accepting = False
        if self._loop is not None:
            self._loop.cancel()
        pending = {task for task in self._in_flight if not task.done()}
        finished = 0
        if pending and grace_s > 0:
            done, pending = await asyncio.wait(pending, timeout=grace_s)
            finished = len(done)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=5)
        try:
            await asyncio.to_thread(self.ledger.leave)
        except SQLAlchemyError as error:
            log.error("delivery.database_unavailable", error=type(error).__name__)
        log.info("delivery.stopped", finished=finished, left_for_resume=len(pending))

    async def _beat(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.ledger.heartbeat)
                await self.resume_orphans()
            except SQLAlchemyError as error:
                log.error("delivery.database_unavailable", error=type(error).__name__)
            await asyncio.sleep(self.settings.delivery_heartbeat_s)

    async def update(
        self, change: Callable[..., object], question_id: int | None, *args: Any, **kwargs: Any
    ) -> None:
        """One ledger change (`ledger.start`, `.replied`, `.finish`) off the event loop.
        A database outage is logged, not raised: the asker's answer matters more than
        its bookkeeping. Untracked questions (`question_id` None) are skipped."""
        if question_id is None:
            return
        try:
            await asyncio.to_thread(change, question_id, *args, **kwargs)
        except SQLAlchemyError as error:
            log.error("delivery.ledger_unavailable", error=type(error).__name__)

    async def resume_orphans(self) -> int:
        """Take over and answer what dead replicas left; returns how many were taken."""
        if not self.accepting:
            return 0
        taken = 0
        for question in await asyncio.to_thread(self.ledger.orphans):
            resumer = self.resumers.get(question.surface)
            if resumer is None or not self.accepting:
                continue
            if not await asyncio.to_thread(self.ledger.take_over, question):
                continue
            taken += 1
            log.info(
                "delivery.resuming",
                question_id=question.id,
                surface=question.surface.value,
                state=question.state.value,
                attempts=question.attempts + 1,
            )
            task = asyncio.create_task(
                self._resume(resumer, question), name=f"resume-{question.id}"
            )
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        return taken

    async def _resume(self, resumer: Resumer, question: QuestionRecord) -> None:
        try:
            await resumer(question)
        except Exception as error:
            log.exception("delivery.resume_failed", question_id=question.id)
            failure = f"{type(error).__name__}: {error}"
            await self.update(self.ledger.finish, question.id, QuestionState.FAILED, error=failure)
