"""Two `supportbot scheduler` processes on one database: one leads, each job runs once
per tick, and when the leader is killed the standby takes over."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from supportbot import db
from supportbot.models import JobRun

INTERVAL_S = 1.0


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> str:
    url = request.getfixturevalue(f"{request.param}_url")
    db.upgrade(db.create_db_engine(url))
    return url


@pytest.fixture
def start(database: str, tmp_path: Path) -> Iterator:
    processes: list[subprocess.Popen] = []
    env = {
        **os.environ,
        "SUPPORTBOT_DATABASE_URL": database,
        "SUPPORTBOT_DATA_DIR": str(tmp_path / "data"),
        "SUPPORTBOT_SCHEDULE_SYNC_MANUAL": "off",
        "SUPPORTBOT_SCHEDULE_SYNC_UPDATE": "off",
        "SUPPORTBOT_SCHEDULE_HARVEST": "off",
        "SUPPORTBOT_SCHEDULE_TRAIN": "off",
        "SUPPORTBOT_SCHEDULE_REPORT": "off",
        # A cheap job (no model to load) on a one-second tick.
        "SUPPORTBOT_SCHEDULE_FOLLOW_TRAINING": f"every {INTERVAL_S:g}s",
        "SUPPORTBOT_SCHEDULER_LEASE_S": "2",
    }

    def launch() -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "supportbot", "scheduler"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        processes.append(process)
        return process

    yield launch
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _runs(url: str) -> list[JobRun]:
    engine = db.create_db_engine(url)
    with Session(engine) as session:
        runs = list(session.exec(select(JobRun).order_by(col(JobRun.id))).all())
    engine.dispose()
    return runs


def _pid(run: JobRun) -> int:
    return int(run.runner.rsplit(":", 1)[1])


def _wait_for_runs_by(url: str, pid: int, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(1 for r in _runs(url) if _pid(r) == pid and r.finished_at) >= count:
            return
        time.sleep(0.3)
    raise AssertionError(f"process {pid} did not run {count} jobs in {timeout}s")


def test_one_leader_runs_each_tick_once_and_the_standby_takes_over(database: str, start) -> None:
    first = start()
    _wait_for_runs_by(database, first.pid, 2)
    second = start()
    time.sleep(6)  # both up: the second must stand by
    assert second.poll() is None, "the standby waits, it does not exit"
    window = _runs(database)
    assert {_pid(r) for r in window} == {first.pid}, "only the leader runs jobs"
    starts = [r.started_at for r in window]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(starts)]
    assert min(gaps) > INTERVAL_S * 0.5, f"a tick ran twice: gaps {gaps}"

    first.send_signal(signal.SIGKILL)  # a crash: no clean release
    first.wait(timeout=10)
    killed_at = time.monotonic()
    _wait_for_runs_by(database, second.pid, 2, timeout=30)
    assert time.monotonic() - killed_at < 30
    after = [r for r in _runs(database) if _pid(r) == second.pid]
    assert all(r.status == "succeeded" for r in after if r.finished_at)
    assert second.poll() is None
