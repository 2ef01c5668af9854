"""Which model answers: the active `ModelVersion`, else the configured base model."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from supportbot.models import ModelVersion


def active_model_id(engine: Engine | None, default: str) -> str:
    """The promoted model's id; the base model when none is promoted or the DB is down."""
    if engine is None:
        return default
    try:
        with Session(engine) as session:
            active = session.exec(
                select(ModelVersion.model_id).where(ModelVersion.is_active)
            ).first()
    except SQLAlchemyError:
        return default
    return active or default
