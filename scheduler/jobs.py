"""The scheduler's jobs: what each does, its stable id and its schedule.

Every run goes through `execute`, whether the scheduler fires it or an operator types
`supportbot jobs run NAME`: it takes the job's lease (a job never overlaps itself, even
across processes), records a `JobRun` with the outcome, and never raises, so one
failing job cannot stop the scheduler; it simply runs again at its next time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from bot.slack.reports import post_report
from finetune_data.harvest import harvest
from finetune_data.openai_backend import OpenAITrainer
from finetune_data.privacy import expire
from finetune_data.report import build_report, render
from finetune_data.runs import recover_interrupted, unfinished
from finetune_data.training import evaluate, train
from knowledge.components.embedders import sentence_embedder
from knowledge.sources import SourcesFileError, load_sources, resolve_sources_file
from knowledge.stores import open_document_store
from knowledge.sync import KnowledgeSync
from scheduler.leases import LeaseLock, holder_id
from supportbot.db import session_scope
from supportbot.models import Dataset, JobRun, PairStatus, QAPair, RunStatus, utcnow
from supportbot.settings import Settings

log = structlog.stdlib.get_logger(__name__)

MAX_RESULT_CHARS = 2_000


class JobContext:
    """What jobs share within one process: settings, the engine, and (built on first
    use, then kept) the document store and the embedding model."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine

    @cached_property
    def store(self) -> Any:

        return open_document_store(self.settings)

    @cached_property
    def embed(self) -> Any:

        return sentence_embedder(self.settings)


@dataclass(frozen=True)
class Job:
    id: str
    description: str
    schedule: str
    run: Callable[[JobContext], str]  # returns a one-line result


# --- the jobs ------------------------------------------------------------------------


def _sync(source_name: str) -> Callable[[JobContext], str]:
    def run(context: JobContext) -> str:

        settings = context.settings
        path = resolve_sources_file(settings.sources_file, settings.resolved_data_dir)
        sources = [s for s in load_sources(path) if s.name == source_name]
        if not sources:
            return f"skipped: {source_name} is no longer in {path}"
        [report] = KnowledgeSync(settings, context.store, engine=context.engine).sync(sources)
        summary = (
            f"{report.added} added, {report.updated} updated, {report.deleted} deleted, "
            f"{report.unchanged} unchanged, {report.failed} failed"
        )
        if report.failed:  # the rest of the source is synced; the run says what broke
            errors = "; ".join(f"{e.get('item')}: {e.get('error')}" for e in report.errors[:3])
            raise JobFailed(f"{summary} ({errors})")
        return summary

    return run


def _harvest(context: JobContext) -> str:

    report = harvest(context.engine, context.embed)
    return (
        f"{report.candidates} candidates, {report.gaps} gaps, {report.merged} merged, "
        f"{report.skipped} skipped"
    )


def new_approved_pairs(engine: Engine) -> int:
    """Approved pairs decided since the newest dataset was exported."""
    with Session(engine) as session:
        last = session.exec(select(func.max(Dataset.created_at))).one()
        query = select(func.count()).select_from(QAPair).where(QAPair.status == PairStatus.APPROVED)
        if last is not None:
            query = query.where(col(QAPair.decided_at) > last)
        return session.exec(query).one()


def _train(context: JobContext) -> str:

    settings = context.settings
    fresh = new_approved_pairs(context.engine)
    if fresh < settings.train_min_new_pairs:
        return f"skipped: {fresh} new approved pairs, {settings.train_min_new_pairs} needed"
    outcome = train(settings, context.engine, context.embed, _log_progress("train"), wait=False)
    if outcome.decision is None:
        return f"run {outcome.run.id}: job {outcome.run.external_id} started"
    verdict = _verdict(outcome.decision)
    return f"run {outcome.run.id}: {verdict} ({outcome.decision.reason})"


def _follow_training(context: JobContext) -> str:

    notes = [f"run {r.id} interrupted" for r in recover_interrupted(context.engine)]
    remote = [r for r in unfinished(context.engine, "openai") if r.external_id]
    if not remote:
        return "; ".join(notes) or "no external jobs running"
    trainer = OpenAITrainer(context.settings)
    for run in remote:
        run = trainer.follow(context.engine, run)
        if run.status == RunStatus.SUCCEEDED:
            decision = evaluate(
                context.settings, context.engine, run, context.embed, _log_progress("follow")
            )
            notes.append(f"run {run.id}: {_verdict(decision)}")
        else:
            notes.append(f"run {run.id}: {run.status.value}")
    return "; ".join(notes)


def _verdict(decision: Any) -> str:
    if decision.promoted:
        return "promoted"
    if decision.promote:
        return f"passed the gate, awaiting a lead's approval to promote {decision.candidate.model}"
    return "kept the live model"


def _retention(context: JobContext) -> str:

    days = context.settings.retention_days
    if days <= 0:
        return "skipped: retention is off (SUPPORTBOT_RETENTION_DAYS=0)"
    counts = expire(context.engine, days)
    return (
        f"{counts.get('exchanges_scrubbed', 0)} exchanges and "
        f"{counts.get('feedback_scrubbed', 0)} feedback older than {days} days scrubbed"
    )


def _weekly_report(context: JobContext) -> str:

    report = build_report(context.engine, context.embed, days=7)
    channel = post_report(context.settings, render(report, slack=True))
    return f"posted to {channel}"


def _log_progress(job_id: str) -> Callable[[str], None]:
    return lambda message: log.info("job.progress", job=job_id, step=message)


class JobFailed(RuntimeError):
    """A job that did part of its work and wants its run recorded as failed."""


def all_jobs(settings: Settings) -> list[Job]:
    """Every job with its schedule: one sync job per source, then the learning loop."""

    jobs = []
    path = resolve_sources_file(settings.sources_file, settings.resolved_data_dir)
    try:
        sources = load_sources(path)
    except SourcesFileError as error:
        log.error("jobs.sources_unreadable", path=str(path), error=str(error))
        sources = []
    for source in sources:
        default = (
            settings.schedule_sync_update
            if source.kind == "update"
            else settings.schedule_sync_manual
        )
        jobs.append(
            Job(
                f"sync:{source.name}",
                f"sync the {source.kind} source {source.name}",
                source.schedule or default,
                _sync(source.name),
            )
        )
    jobs += [
        Job(
            "harvest",
            "harvest rated exchanges into candidate pairs",
            settings.schedule_harvest,
            _harvest,
        ),
        Job(
            "train",
            f"train when {settings.train_min_new_pairs}+ new approved pairs; promote if "
            + ("better" if settings.train_auto_promote else "better and a lead approves"),
            settings.schedule_train,
            _train,
        ),
        Job(
            "follow-training",
            "follow external training jobs, evaluate finished ones",
            settings.schedule_follow_training,
            _follow_training,
        ),
        Job(
            "retention",
            f"scrub raw text older than {settings.retention_days} days",
            settings.schedule_retention,
            _retention,
        ),
        Job(
            "weekly-report",
            "post the weekly report to the leads",
            settings.schedule_report,
            _weekly_report,
        ),
    ]
    return jobs


# --- running -----------------------------------------------------------------------


def execute(context: JobContext, job: Job, trigger: str = "schedule") -> JobRun:
    """Run `job` once, recorded; skipped when another process is running it."""
    lease = LeaseLock(context.engine, f"job:{job.id}", context.settings.scheduler_lease_s)
    if not lease.acquire():
        return _record(context.engine, job.id, trigger, "skipped", "already running elsewhere")
    stop_renewing = threading.Event()
    renewer = threading.Thread(
        target=_keep_renewing, args=(lease, stop_renewing), daemon=True, name=f"lease-{job.id}"
    )
    renewer.start()
    run = _record(context.engine, job.id, trigger, "running")
    log.info("job.started", job=job.id, trigger=trigger)
    try:
        result = job.run(context)
    except Exception as error:  # recorded, logged; the scheduler carries on
        log.exception("job.failed", job=job.id)
        return _finish(context.engine, run, "failed", error=f"{type(error).__name__}: {error}")
    finally:
        stop_renewing.set()
        renewer.join()
        lease.release()
    status = "skipped" if result.startswith("skipped: ") else "succeeded"
    result = result.removeprefix("skipped: ")
    log.info("job.finished", job=job.id, status=status, result=result)
    return _finish(context.engine, run, status, result=result)


def _keep_renewing(lease: LeaseLock, stop: threading.Event) -> None:
    while not stop.wait(lease.seconds / 3):
        lease.renew()


def _record(
    engine: Engine, job_id: str, trigger: str, status: str, result: str | None = None
) -> JobRun:
    with session_scope(engine) as session:
        run = JobRun(
            job_id=job_id,
            status=status,
            trigger=trigger,
            runner=holder_id(),
            result=result,
            finished_at=None if status == "running" else utcnow(),
        )
        session.add(run)
        session.flush()
        session.expunge(run)
    return run


def _finish(
    engine: Engine, run: JobRun, status: str, result: str | None = None, error: str | None = None
) -> JobRun:
    with session_scope(engine) as session:
        stored = session.get(JobRun, run.id)
        assert stored is not None
        stored.status = status
        stored.result = result[:MAX_RESULT_CHARS] if result else None
        stored.error = error[:MAX_RESULT_CHARS] if error else None
        stored.finished_at = utcnow()
        session.flush()
        session.expunge(stored)
    return stored


# The scheduler's job store keeps a reference to this function and the job id (both
# picklable); `process.py` sets the context when the process starts leading.
_context: JobContext | None = None
_jobs: dict[str, Job] = {}


def bind(context: JobContext, jobs: list[Job]) -> None:
    global _context, _jobs
    _context, _jobs = context, {job.id: job for job in jobs}


def run_scheduled(job_id: str) -> None:
    if _context is None or job_id not in _jobs:
        log.error("job.unknown", job=job_id)
        return
    execute(_context, _jobs[job_id])
