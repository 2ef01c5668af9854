"""The model registry: which model answers (the active `ModelVersion`, else the
configured base model), and promotions and rollbacks, each recorded with who made it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from supportbot.db import session_scope
from supportbot.models import ModelChange, ModelVersion, utcnow


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


class RegistryError(ValueError):
    """A registry change that cannot be made (unknown model, nothing to roll back)."""


def list_models(engine: Engine) -> list[ModelVersion]:
    with Session(engine) as session:
        return list(session.exec(select(ModelVersion).order_by(col(ModelVersion.id))).all())


def register(
    engine: Engine,
    model_id: str,
    backend: str,
    training_run_id: int | None = None,
    eval_scores: dict[str, Any] | None = None,
) -> ModelVersion:
    """Add a model the bot may answer with (inactive until promoted)."""
    with session_scope(engine) as session:
        version = add_version(session, model_id, backend, training_run_id, eval_scores)
        session.expunge(version)
    return version


def add_version(
    session: Session,
    model_id: str,
    backend: str,
    training_run_id: int | None = None,
    eval_scores: dict[str, Any] | None = None,
) -> ModelVersion:
    """`register` inside the caller's transaction (a training run registers its model
    and closes itself in one commit, so a crash never leaves one without the other)."""
    if session.exec(select(ModelVersion).where(ModelVersion.model_id == model_id)).first():
        raise RegistryError(f"model {model_id!r} is already registered")
    version = ModelVersion(
        model_id=model_id,
        backend=backend,
        training_run_id=training_run_id,
        eval_scores=eval_scores or {},
    )
    session.add(version)
    session.flush()
    return version


def promote(engine: Engine, model_id: str, by: str, reason: str | None = None) -> ModelChange:
    """Make `model_id` the answering model; the change is recorded for rollback."""
    return _switch(engine, "promote", model_id, by, reason)


def rollback(engine: Engine, by: str, reason: str | None = None) -> ModelChange:
    """Restore the model that was live before the latest promotion (possibly the base
    model, recorded as None)."""
    with Session(engine) as session:
        last = session.exec(
            select(ModelChange)
            .where(ModelChange.action == "promote")
            .order_by(col(ModelChange.id).desc())
        ).first()
        current = session.exec(select(ModelVersion).where(ModelVersion.is_active)).first()
    if last is None or (current.model_id if current else None) != last.model_id:
        raise RegistryError("nothing to roll back: the live model was not set by a promotion")
    return _switch(engine, "rollback", last.previous_model_id, by, reason)


def _switch(
    engine: Engine, action: str, model_id: str | None, by: str, reason: str | None
) -> ModelChange:
    # One transaction: the single-active index never sees two live models, and a
    # failure leaves the previous model live.
    with session_scope(engine) as session:
        target = None
        if model_id is not None:
            target = session.exec(
                select(ModelVersion).where(ModelVersion.model_id == model_id)
            ).first()
            if target is None:
                raise RegistryError(f"no registered model {model_id!r}")
        current = session.exec(select(ModelVersion).where(ModelVersion.is_active)).first()
        if current is not None:
            current.is_active = False
            session.flush()
        if target is not None:
            target.is_active = True
            target.promoted_at = utcnow()
            gate = target.eval_scores.get("gate")
            if isinstance(gate, dict) and gate.get("awaiting_approval"):
                # A lead's promotion is the approval the gate was waiting for.
                target.eval_scores = {
                    **target.eval_scores,
                    "gate": {**gate, "awaiting_approval": False},
                }
        change = ModelChange(
            action=action,
            model_id=model_id,
            previous_model_id=current.model_id if current else None,
            changed_by=by,
            reason=reason,
        )
        session.add(change)
        session.flush()
        session.expunge(change)
    return change


def awaiting_approval(engine: Engine) -> list[ModelVersion]:
    """Candidates that passed the evaluation gate and wait for a lead to put them live
    (automatic promotion is off)."""
    with Session(engine) as session:
        versions = session.exec(
            select(ModelVersion).where(col(ModelVersion.is_active).is_(False))
        ).all()
    return [v for v in versions if (v.eval_scores.get("gate") or {}).get("awaiting_approval")]
