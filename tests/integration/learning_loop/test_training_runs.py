"""Training runs survive crashes: interrupted runs are failed cleanly, and a model is
registered only together with its run's success."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from finetune_data.runs import INTERRUPTED, open_run, owner, recover_interrupted, update_run
from supportbot import db
from supportbot.db import session_scope
from supportbot.models import RunStatus, TrainingRun, utcnow
from supportbot.registry import RegistryError, list_models, register


@pytest.fixture
def engine(tmp_path: Path):
    engine = db.create_db_engine(f"sqlite:///{tmp_path}/t.db")
    db.upgrade(engine)
    return engine


def _dead_pid() -> int:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(child.stdout)


def _age(engine, run_id: int | None, hours: float) -> None:
    with session_scope(engine) as session:
        run = session.get(TrainingRun, run_id)
        assert run is not None
        run.created_at = run.started_at = utcnow() - timedelta(hours=hours)


def _status(engine, run_id: int | None) -> RunStatus:
    with Session(engine) as session:
        run = session.get(TrainingRun, run_id)
        assert run is not None
        return run.status


def test_only_runs_whose_process_is_gone_are_failed_as_interrupted(engine) -> None:
    here = socket.gethostname()
    running = RunStatus.RUNNING
    crashed = open_run(
        engine, "local", "m", None, status=running, external_id=f"{here}:{_dead_pid()}"
    )
    alive = open_run(engine, "local", "m", None, status=running, external_id=owner())
    elsewhere_fresh = open_run(
        engine, "local", "m", None, status=running, external_id="other-host:1"
    )
    elsewhere_old = open_run(engine, "local", "m", None, status=running, external_id="other-host:2")
    _age(engine, elsewhere_old.id, 30)
    remote_job = open_run(engine, "openai", "gpt", None, status=running, external_id="ftjob-1")
    _age(engine, remote_job.id, 30)
    never_created = open_run(engine, "openai", "gpt", None)
    _age(engine, never_created.id, 2)
    just_starting = open_run(engine, "openai", "gpt", None)

    failed = recover_interrupted(engine)

    assert sorted(r.id for r in failed) == sorted([crashed.id, elsewhere_old.id, never_created.id])
    assert all(r.error == INTERRUPTED and r.finished_at is not None for r in failed)
    for kept in (alive, elsewhere_fresh, remote_job):
        assert _status(engine, kept.id) == RunStatus.RUNNING
    assert _status(engine, just_starting.id) == RunStatus.PENDING
    assert recover_interrupted(engine) == [], "a second start finds nothing more to fail"


def test_a_model_is_registered_in_the_same_transaction_that_closes_its_run(engine) -> None:
    run = open_run(engine, "local", "m", None, status=RunStatus.RUNNING, external_id=owner())
    closed = update_run(
        engine, run.id, RunStatus.SUCCEEDED, metrics={"loss": 1.0}, model=("local/a", "local")
    )
    assert closed.status == RunStatus.SUCCEEDED
    [model] = list_models(engine)
    assert (model.model_id, model.training_run_id, model.eval_scores) == (
        "local/a",
        run.id,
        {"loss": 1.0},
    )

    second = open_run(engine, "local", "m", None, status=RunStatus.RUNNING, external_id=owner())
    register(engine, "local/b", "local")  # the id is taken: registering must fail...
    with pytest.raises(RegistryError):
        update_run(engine, second.id, RunStatus.SUCCEEDED, model=("local/b", "local"))
    assert _status(engine, second.id) == RunStatus.RUNNING, "...and the run is not closed"
