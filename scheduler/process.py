"""The scheduler process: wait to lead, then run the jobs until told to stop.

Schedules live in APScheduler's SQLAlchemy job store on the application database, so
they survive restarts: a job whose schedule did not change keeps its stored next run
time, and a run missed while no scheduler was up happens once on start-up if it is
within the grace time (coalesced, however many were missed). Each job runs at most
once at a time (`max_instances=1`, plus the job's lease across processes).
"""

from __future__ import annotations

import threading

import structlog
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from sqlalchemy.engine import Engine

from scheduler import jobs as job_module
from scheduler.jobs import Job, JobContext, all_jobs
from scheduler.leases import leadership
from scheduler.schedules import ScheduleError, parse
from supportbot.settings import Settings

log = structlog.stdlib.get_logger(__name__)

JOB_TABLE = "apscheduler_jobs"
RUN_JOB = "scheduler.jobs:run_scheduled"  # a textual reference, stored with each job


class ConfigurationError(ValueError):
    """Schedules that cannot be parsed; the message names each."""


def triggers(settings: Settings, jobs: list[Job]) -> dict[str, object | None]:
    found, problems = {}, []
    for job in jobs:
        try:
            found[job.id] = parse(job.schedule, settings.scheduler_timezone)
        except ScheduleError as error:
            problems.append(f"{job.id}: {error}")
    if problems:
        raise ConfigurationError("; ".join(problems))
    return found


class _Scheduler(BackgroundScheduler):
    """APScheduler's background scheduler, minus one race: `shutdown()` wakes the
    scheduler thread, which then processes due jobs once more, advancing their next
    run time in the store and failing to submit them to the stopped executor; the run
    is lost. Only a running scheduler processes jobs here."""

    def _process_jobs(self) -> float | None:
        if self.state != STATE_RUNNING:
            return None
        return super()._process_jobs()


def build_scheduler(settings: Settings, engine: Engine) -> BackgroundScheduler:
    return _Scheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE)},
        executors={"default": {"type": "threadpool", "max_workers": settings.scheduler_workers}},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": settings.scheduler_misfire_grace_s,
        },
        timezone=settings.scheduler_timezone,
    )


def install_jobs(scheduler: BackgroundScheduler, settings: Settings, jobs: list[Job]) -> None:
    """Make the stored jobs match the configured ones, keeping unchanged schedules'
    next run times (call on a started, paused scheduler)."""
    wanted = triggers(settings, jobs)
    stored = {job.id: job for job in scheduler.get_jobs()}
    for job in jobs:
        trigger = wanted[job.id]
        current = stored.pop(job.id, None)
        if trigger is None:
            if current is not None:
                current.remove()
            continue
        if current is not None and str(current.trigger) == str(trigger):
            continue
        scheduler.add_job(
            RUN_JOB,
            trigger=trigger,
            args=[job.id],
            id=job.id,
            name=job.description,
            replace_existing=True,
        )
    for leftover in stored.values():  # a source removed from the sources file
        leftover.remove()


def run(settings: Settings, engine: Engine, stop: threading.Event) -> None:
    """Lead (or wait to lead) and run jobs until `stop` is set."""
    jobs = all_jobs(settings)
    triggers(settings, jobs)  # fail fast on a bad schedule, before waiting to lead
    leader = leadership(engine, settings.scheduler_lease_s)
    renew_every = max(settings.scheduler_lease_s / 3, 0.2)
    waiting_logged = False
    while not stop.is_set():
        if not leader.acquire():
            if not waiting_logged:
                log.info("scheduler.standby", reason="another scheduler is leading")
                waiting_logged = True
            stop.wait(renew_every)
            continue
        waiting_logged = False
        log.info("scheduler.leading", jobs=[job.id for job in jobs])
        job_module.bind(JobContext(settings, engine), jobs)
        scheduler = build_scheduler(settings, engine)
        scheduler.start(paused=True)
        install_jobs(scheduler, settings, jobs)
        scheduler.resume()
        lost = False
        while not stop.wait(renew_every):
            if not leader.renew():
                lost = True
                log.error("scheduler.leadership_lost")
                break
        # On a normal stop, running jobs finish; when leadership is lost, the next
        # leader may already be running, so do not wait (job leases prevent overlap).
        scheduler.shutdown(wait=not lost)
        leader.release()
    log.info("scheduler.stopped")
