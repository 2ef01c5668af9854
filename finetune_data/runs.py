"""The life of a `TrainingRun` row, shared by every training backend.

A run is opened before any work, closed with its outcome, and, when it produced a
model, closed and registered in one transaction: a crash leaves either a run without
a model (failed or interrupted, visible as such) or both, never a half-registered
model. `recover_interrupted` fails runs whose process died, so a restart starts clean.
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from supportbot.db import session_scope
from supportbot.models import RunStatus, TrainingRun, utcnow
from supportbot.registry import add_version

log = structlog.stdlib.get_logger(__name__)

INTERRUPTED = "interrupted: the training process stopped before the run finished"
# A run on another machine cannot be checked for life; past this age it is presumed dead.
STALE_AFTER = timedelta(hours=24)
# An external job whose creation never got recorded (crash between the two calls).
UNSTARTED_AFTER = timedelta(hours=1)


def owner() -> str:
    """This process, as recorded on the runs it trains in-process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def open_run(
    engine: Engine,
    backend: str,
    base_model: str,
    dataset_id: int | None,
    hyperparameters: dict[str, Any] | None = None,
    status: RunStatus = RunStatus.PENDING,
    external_id: str | None = None,
) -> TrainingRun:
    with session_scope(engine) as session:
        run = TrainingRun(
            backend=backend,
            base_model=base_model,
            dataset_id=dataset_id,
            status=status,
            external_id=external_id,
            hyperparameters=hyperparameters or {},
            started_at=utcnow() if status == RunStatus.RUNNING else None,
        )
        session.add(run)
        session.flush()
        session.expunge(run)
    return run


def update_run(
    engine: Engine,
    run_id: int | None,
    status: RunStatus,
    metrics: dict[str, Any] | None = None,
    error: str | None = None,
    external_id: str | None = None,
    model: tuple[str, str] | None = None,
) -> TrainingRun:
    """Record a run's progress or outcome. `model` (model id, backend) registers the
    trained model in the same transaction, with the run's metrics as its scores."""
    with session_scope(engine) as session:
        run = session.get(TrainingRun, run_id)
        if run is None:
            raise LookupError(f"no training run {run_id}")
        if status == RunStatus.RUNNING and run.started_at is None:
            run.started_at = utcnow()
        run.status = status
        if metrics is not None:
            run.metrics = metrics
        if error is not None:
            run.error = error
        if external_id is not None:
            run.external_id = external_id
        if status not in (RunStatus.PENDING, RunStatus.RUNNING):
            run.finished_at = utcnow()
        if model is not None:
            add_version(session, model[0], model[1], run.id, eval_scores=dict(run.metrics))
        session.flush()
        session.expunge(run)
    if error:
        log.warning("training.failed", backend=run.backend, run=run.id, error=error)
    return run


def unfinished(engine: Engine, backend: str | None = None) -> list[TrainingRun]:
    with Session(engine) as session:
        query = select(TrainingRun).where(
            col(TrainingRun.status).in_([RunStatus.PENDING, RunStatus.RUNNING])
        )
        if backend is not None:
            query = query.where(TrainingRun.backend == backend)
        return list(session.exec(query.order_by(col(TrainingRun.id))).all())


def recover_interrupted(engine: Engine) -> list[TrainingRun]:
    """Fail the runs nobody is working on any more; returns them.

    In-process runs record their owner (host:pid) as `external_id`: on this host a run
    whose process is gone is interrupted; elsewhere, one older than a day. Runs with a
    remote job (an external id from the provider) are left for `follow`, except those
    whose job was never created.
    """
    now = utcnow()
    failed = []
    for run in unfinished(engine):
        started = run.started_at or run.created_at
        if run.external_id and ":" in run.external_id:  # host:pid of an in-process run
            host, _, pid = run.external_id.rpartition(":")
            here = host == socket.gethostname()
            dead = not _alive(int(pid)) if here else now - started > STALE_AFTER
        else:
            dead = run.external_id is None and now - started > UNSTARTED_AFTER
        if dead:
            failed.append(update_run(engine, run.id, RunStatus.FAILED, error=INTERRUPTED))
    return failed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True
