"""The scheduler in-process: real APScheduler, real files, real database."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from scheduler import jobs as job_module
from scheduler.leases import LeaseLock
from scheduler.process import build_scheduler
from scheduler.process import run as run_scheduler
from scheduler.status import next_runs
from supportbot import db
from supportbot.models import JobRun, utcnow
from supportbot.settings import Settings
from tests.support.cli import supportbot
from tests.support.waiting import wait_until

OFF = {
    "schedule_sync_manual": "off",
    "schedule_sync_update": "off",
    "schedule_harvest": "off",
    "schedule_train": "off",
    "schedule_follow_training": "off",
    "schedule_report": "off",
}


@pytest.fixture
def knowledge_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "manual"
    folder.mkdir()
    (folder / "reset.md").write_text("# Reset\n\nHold the Reset button for 10 seconds.\n")
    (tmp_path / "sources.yaml").write_text(
        "sources:\n  - name: manual\n    kind: manual\n    type: folder\n    path: manual\n"
        '    schedule: "every 1s"\n'
    )
    return tmp_path


def _settings(knowledge_dir: Path, **overrides: object) -> Settings:
    values = {
        **OFF,
        "schedule_sync_manual": "0 3 * * *",  # the source's own schedule wins
        "data_dir": knowledge_dir / "data",
        "sources_file": knowledge_dir / "sources.yaml",
        "scheduler_lease_s": 2.0,
        **overrides,
    }
    return Settings(**values)


def _engine(settings: Settings):
    engine = db.create_db_engine(settings.resolved_database_url)
    db.upgrade(engine)
    return engine


@contextmanager
def running(settings: Settings, engine) -> Iterator[threading.Thread]:
    stop = threading.Event()
    thread = threading.Thread(target=run_scheduler, args=(settings, engine, stop), daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join(timeout=60)
        assert not thread.is_alive(), "the scheduler stops when told to"


def _runs(engine, job_id: str) -> list[JobRun]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(JobRun).where(JobRun.job_id == job_id).order_by(col(JobRun.id))
            ).all()
        )


def _wait_for(check: Callable[[], bool], timeout: float = 60) -> None:
    wait_until(check, timeout, "the scheduler", poll_s=0.2)


def test_sync_and_harvest_run_on_their_schedules_against_real_files(knowledge_dir: Path) -> None:
    settings = _settings(knowledge_dir, schedule_harvest="every 1s")
    engine = _engine(settings)
    with running(settings, engine):
        _wait_for(lambda: any(r.status == "succeeded" for r in _runs(engine, "sync:manual")))
        first = next(r for r in _runs(engine, "sync:manual") if r.status == "succeeded")
        assert first.result.startswith("1 added")
        (knowledge_dir / "manual" / "reset.md").write_text("# Reset\n\nHold it for 15 seconds.\n")
        _wait_for(
            lambda: any("1 updated" in (r.result or "") for r in _runs(engine, "sync:manual"))
        )
        _wait_for(
            lambda: len([r for r in _runs(engine, "harvest") if r.status == "succeeded"]) >= 2
        )
    harvests = _runs(engine, "harvest")
    assert "candidates" in harvests[0].result
    for job_id in ("sync:manual", "harvest"):  # never overlapping itself
        runs = [r for r in _runs(engine, job_id) if r.finished_at]
        for earlier, later in itertools.pairwise(runs):
            assert later.started_at >= earlier.finished_at
    assert _runs(engine, "train") == [], "jobs switched off never run"


def test_a_failing_job_is_recorded_and_runs_again_without_stopping_the_others(
    knowledge_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(context: object) -> str:
        raise RuntimeError("the embedding model is missing")

    monkeypatch.setattr(job_module, "_harvest", broken)
    settings = _settings(knowledge_dir, schedule_harvest="every 1s")
    engine = _engine(settings)
    with running(settings, engine) as thread:
        _wait_for(lambda: len(_runs(engine, "harvest")) >= 3)
        _wait_for(lambda: any(r.status == "succeeded" for r in _runs(engine, "sync:manual")))
        assert thread.is_alive()
    failures = [r for r in _runs(engine, "harvest") if r.status != "running"]
    assert all(r.status == "failed" for r in failures)
    assert failures[0].error == "RuntimeError: the embedding model is missing"


def test_a_restart_keeps_the_stored_schedule_and_a_missed_run_happens_once(
    knowledge_dir: Path,
) -> None:
    settings = _settings(knowledge_dir, schedule_harvest="every 1h")
    engine = _engine(settings)
    with running(settings, engine):
        _wait_for(lambda: "harvest" in next_runs(engine))
    planned = next_runs(engine)["harvest"]
    assert planned is not None
    assert planned > utcnow() + timedelta(minutes=59)

    with running(settings, engine):
        time.sleep(2)
    assert next_runs(engine)["harvest"] == planned, "an unchanged schedule keeps its next run"
    assert _runs(engine, "harvest") == []

    # The scheduler was down through three runs: one catch-up run, not three.
    scheduler = build_scheduler(settings, engine)
    scheduler.start(paused=True)
    scheduler.modify_job("harvest", next_run_time=utcnow() - timedelta(hours=3))
    scheduler.shutdown()
    with running(settings, engine):
        _wait_for(lambda: any(r.finished_at for r in _runs(engine, "harvest")))
        time.sleep(2)
    assert len(_runs(engine, "harvest")) == 1
    assert next_runs(engine)["harvest"] > utcnow() + timedelta(minutes=55)

    changed = _settings(knowledge_dir, schedule_harvest="every 2h")
    with running(changed, engine):
        time.sleep(1)
    assert next_runs(engine)["harvest"] > utcnow() + timedelta(minutes=110), (
        "a new schedule applies"
    )


def test_a_job_already_running_elsewhere_is_skipped_not_doubled(knowledge_dir: Path) -> None:
    settings = _settings(knowledge_dir)
    engine = _engine(settings)
    other = LeaseLock(engine, "job:harvest", 60, holder="other-host:1")
    assert other.acquire()
    [job] = [j for j in job_module.all_jobs(settings) if j.id == "harvest"]
    run = job_module.execute(job_module.JobContext(settings, engine), job, trigger="manual")
    assert (run.status, run.result) == ("skipped", "already running elsewhere")
    other.release()
    assert LeaseLock(engine, "job:harvest", 60).acquire(), "released leases are free again"


def test_jobs_list_and_run_from_the_command_line(knowledge_dir: Path) -> None:
    env = {
        "SUPPORTBOT_DATA_DIR": str(knowledge_dir / "data"),
        "SUPPORTBOT_SOURCES_FILE": str(knowledge_dir / "sources.yaml"),
    }
    listed = supportbot("jobs", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    for job_id in ("sync:manual", "harvest", "train", "follow-training", "weekly-report"):
        assert job_id in listed.stdout
    ran = supportbot("jobs", "run", "train", env=env)
    assert ran.returncode == 0, ran.stderr
    assert "train: skipped: 0 new approved pairs, 50 needed" in ran.stdout
    synced = supportbot("jobs", "run", "sync:manual", env=env)
    assert "sync:manual: succeeded: 1 added" in synced.stdout
    report = supportbot("jobs", "run", "weekly-report", env=env)
    assert report.returncode == 1, "no Slack configured: recorded as failed, said clearly"
    assert "SUPPORTBOT_SLACK_LEADS_CHANNEL" in report.stdout
    as_json = supportbot("jobs", "list", "--json", env=env)

    rows = {row["id"]: row for row in json.loads(as_json.stdout)}
    assert rows["sync:manual"]["last_status"] == "succeeded"
    assert rows["weekly-report"]["last_status"] == "failed"
    unknown = supportbot("jobs", "run", "nope", env=env)
    assert unknown.returncode == 2
    assert "no job 'nope'" in unknown.stderr
