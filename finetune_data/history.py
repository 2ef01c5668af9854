"""A pair's append-only history: every creation, decision, edit and mark, with who
made it and when. Rows are only ever added (a reject followed by another lead's approve
keeps both); a pair's history goes only when the pair itself is forgotten."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from supportbot.models import PairEvent


def record(
    session: Session,
    pair_id: int,
    action: str,
    actor: str,
    changes: dict[str, list[Any]] | None = None,
    note: str | None = None,
) -> None:
    session.add(
        PairEvent(pair_id=pair_id, action=action, actor=actor, changes=changes or {}, note=note)
    )


def history(engine: Engine, pair_id: int) -> list[PairEvent]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(PairEvent)
                .where(PairEvent.pair_id == pair_id)
                .order_by(col(PairEvent.created_at), col(PairEvent.id))
            ).all()
        )


def as_dict(event: PairEvent) -> dict[str, Any]:
    """An event as leads read it (`pairs show`, the review page)."""
    return {
        "at": event.created_at.isoformat(),
        "action": event.action,
        "by": event.actor,
        "changes": event.changes,
        "note": event.note,
    }
