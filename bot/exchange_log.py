"""The record of every exchange and the feedback on it: one log that front ends
(Slack, the web chat, `supportbot ask`) are handed explicitly, beside the conversation
service that answers."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from knowledge.answering import Answer, Turn
from knowledge.scope import Scope
from supportbot.db import session_scope
from supportbot.models import Exchange, Feedback, Rating, Surface

log = structlog.stdlib.get_logger(__name__)


class ExchangeLog:
    """Exchanges (question, answer, sources, scope…) and their ratings and hand-offs."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

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
        """Store one exchange; returns its id. `context`: conversation_id, channel_id, user_id…"""
        timings = dict(answer.timings_ms)
        if total_ms is not None:
            timings["total_ms"] = round(total_ms, 1)
        with session_scope(self.engine) as session:
            exchange = Exchange(
                surface=surface,
                question=answer.question,
                answer=answer.text,
                sources=[asdict(citation) for citation in answer.citations],
                context=answer.context,
                model_id=answer.model_id,
                latency_ms=round(timings.get("total_ms", sum(answer.timings_ms.values()))),
                timings=timings,
                answer_mode=answer.mode,
                abstained=answer.abstained,
                escalated=False,
                error=error or answer.note,
                scope=scope.stored() if scope else None,
                **context,
            )
            session.add(exchange)
            session.flush()
            exchange_id = exchange.id
        assert exchange_id is not None
        log.info(
            "exchange.recorded",
            exchange_id=exchange_id,
            surface=surface.value,
            mode=answer.mode,
            cited=len(answer.citations),
            latency_ms=exchange.latency_ms,
        )
        return exchange_id

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

    def conversation(
        self, conversation_id: str, rater: str, limit: int = 100
    ) -> list[tuple[Exchange, Rating | None]]:
        """A conversation's exchanges, oldest first, each with `rater`'s rating of it."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(Exchange, Feedback.rating)
                .join(
                    Feedback,
                    sa.and_(
                        col(Feedback.exchange_id) == col(Exchange.id),
                        col(Feedback.user_id) == rater,
                    ),
                    isouter=True,
                )
                .where(Exchange.conversation_id == conversation_id)
                .order_by(col(Exchange.id).desc())
                .limit(limit)
            ).all()
        return [(exchange, rating) for exchange, rating in reversed(rows)]

    def answered_questions(
        self, surface: Surface, product: str | None, recent: int = 5000
    ) -> list[tuple[str, str | None]]:
        """(question, conversation) of the `recent` latest answered (not abstained, not
        stopped) exchanges on `surface`, for `product` when given (its scoped questions
        and the unscoped ones)."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(Exchange.question, Exchange.conversation_id, Exchange.scope)
                .where(Exchange.surface == surface)
                .where(col(Exchange.answer_mode).in_(("generated", "excerpts")))
                .where(col(Exchange.scrubbed_at).is_(None))
                .order_by(col(Exchange.id).desc())
                .limit(recent)
            ).all()
        return [
            (question, conversation_id)
            for question, conversation_id, scope in rows
            if product is None
            or not Scope.from_stored(scope).products
            or product in Scope.from_stored(scope).products
        ]

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

    def set_ticket(self, exchange_id: int, reference: str, url: str | None) -> None:
        """Keep the hand-off's ticket on the exchange."""
        with session_scope(self.engine) as session:
            exchange = session.get(Exchange, exchange_id)
            if exchange is not None:
                exchange.ticket_ref = reference[:255]
                exchange.ticket_url = url[:1024] if url else None
