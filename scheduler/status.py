"""Jobs as an operator sees them: schedule, next run, last run and its result."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from scheduler.jobs import all_jobs
from scheduler.process import JOB_TABLE
from supportbot.models import JobRun
from supportbot.settings import Settings


def next_runs(engine: Engine) -> dict[str, datetime | None]:
    """Next run times from APScheduler's job store (empty before the first start)."""
    if not sa.inspect(engine).has_table(JOB_TABLE):
        return {}
    with engine.connect() as connection:
        rows = connection.execute(sa.text(f"SELECT id, next_run_time FROM {JOB_TABLE}"))  # noqa: S608
        return {
            job_id: datetime.fromtimestamp(stamp, UTC) if stamp is not None else None
            for job_id, stamp in rows
        }


def job_statuses(settings: Settings, engine: Engine) -> list[dict[str, Any]]:
    upcoming = next_runs(engine)
    rows = []
    with Session(engine) as session:
        for job in all_jobs(settings):
            last = session.exec(
                select(JobRun).where(JobRun.job_id == job.id).order_by(col(JobRun.id).desc())
            ).first()
            rows.append(
                {
                    "id": job.id,
                    "description": job.description,
                    "schedule": job.schedule,
                    "next_run": upcoming.get(job.id),
                    "last_run": last.started_at if last else None,
                    "last_status": last.status if last else None,
                    "last_result": (last.error or last.result) if last else None,
                    "last_runner": last.runner if last else None,
                }
            )
    return rows
