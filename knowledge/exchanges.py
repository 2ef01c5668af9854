"""Recording answered questions as `Exchange` rows (the raw material of the learning loop)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import structlog
from sqlalchemy.engine import Engine

from knowledge.answering import Answer
from supportbot.db import session_scope
from supportbot.models import Exchange, Surface

log = structlog.stdlib.get_logger(__name__)


def record_exchange(
    engine: Engine,
    answer: Answer,
    surface: Surface,
    total_ms: float | None = None,
    error: str | None = None,
    **context: Any,
) -> int:
    """Store one exchange; returns its id. `context`: conversation_id, channel_id, user_id…"""
    timings = dict(answer.timings_ms)
    if total_ms is not None:
        timings["total_ms"] = round(total_ms, 1)
    with session_scope(engine) as session:
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
