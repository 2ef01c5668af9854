"""`supportbot jobs`: the scheduler's jobs (list with their last and next runs, run one now)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from scheduler.jobs import JobContext, all_jobs, execute
from scheduler.status import job_statuses
from supportbot.cli.common import console, fail, open_engine

jobs_app = typer.Typer(help="Scheduled jobs (list, run now).", no_args_is_help=True)


@jobs_app.command("list")
def list_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every job: schedule, next run (from the scheduler's store), last run and result."""

    settings = ctx.obj
    rows = job_statuses(settings, open_engine(settings))
    if as_json:
        console.print_json(json.dumps([_jsonable(r) for r in rows]))
        return
    table = Table("job", "schedule", "next run", "last run", "status", "result")
    for row in rows:
        table.add_row(
            row["id"],
            row["schedule"],
            _when(row["next_run"]) or ("off" if row["schedule"] == "off" else "not scheduled yet"),
            _when(row["last_run"]) or "never",
            row["last_status"] or "",
            row["last_result"] or "",
        )
    console.print(table)


@jobs_app.command("run")
def run_command(ctx: typer.Context, name: str) -> None:
    """Run one job now, through the same code path as the scheduler (recorded the same way)."""

    settings = ctx.obj
    jobs = {job.id: job for job in all_jobs(settings)}
    if name not in jobs:
        fail(f"no job {name!r}; jobs: {', '.join(jobs)}", code=2)
    run = execute(JobContext(settings, open_engine(settings)), jobs[name], trigger="manual")
    message = run.result or run.error or ""
    console.print(f"{name}: {run.status}" + (f": {message}" if message else ""))
    if run.status == "failed":
        raise typer.Exit(1)


def _when(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if value else None


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}
