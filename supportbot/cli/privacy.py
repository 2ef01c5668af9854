"""`supportbot privacy`: forget one person's data, expire old raw text, see what was done.

What is removed is counted and recorded (`privacy_action`), never the data itself or
the id it was selected by.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table
from sqlmodel import Session, col, select

from finetune_data.curation import store_indexer
from finetune_data.privacy import Selector
from finetune_data.privacy import expire as run_expire
from finetune_data.privacy import forget as run_forget
from supportbot.cli.common import console, fail, open_engine, operator
from supportbot.models import PrivacyAction

privacy_app = typer.Typer(
    help="Personal data: forget one person, expire old raw text, list what was done.",
    no_args_is_help=True,
)


@privacy_app.command()
def forget(
    ctx: typer.Context,
    slack_user: Annotated[
        str | None, typer.Option("--slack-user", help="A Slack user id (U…).")
    ] = None,
    conversation: Annotated[
        str | None, typer.Option(help="A conversation id (Slack thread or web conversation).")
    ] = None,
    email: Annotated[str | None, typer.Option(help="An e-mail address the person gave.")] = None,
    by: Annotated[str | None, typer.Option(help="Who asks (default: the login name).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Remove one person's data everywhere: exchanges, feedback, pairs, verified answers
    and datasets not yet trained on."""

    given = [
        (k, v)
        for k, v in (("slack-user", slack_user), ("conversation", conversation), ("email", email))
        if v is not None
    ]
    if len(given) != 1:
        fail("give exactly one of --slack-user, --conversation or --email", code=2)
    [(kind, value)] = given
    try:
        selector = Selector(kind, value)  # type: ignore[arg-type]
    except ValueError as error:
        fail(str(error), code=2)
    settings = ctx.obj
    engine = open_engine(settings)
    counts = run_forget(engine, selector, operator(by), store_indexer(settings))
    if as_json:
        console.print_json(json.dumps(counts))
        return
    table = Table("removed", "count")
    for name, number in counts.items():
        table.add_row(name.replace("_", " "), str(number))
    console.print(table)
    if counts.get("datasets_already_trained"):
        console.print(
            "[yellow]Models were trained on datasets that held this data[/]: train again "
            "(supportbot train) and promote the new model to stop using them."
        )


@privacy_app.command()
def expire(ctx: typer.Context) -> None:
    """Scrub raw exchange and feedback text older than SUPPORTBOT_RETENTION_DAYS now
    (the scheduler's `retention` job does this daily)."""

    settings = ctx.obj
    if settings.retention_days <= 0:
        fail("retention is off (SUPPORTBOT_RETENTION_DAYS=0)", code=2)
    counts = run_expire(open_engine(settings), settings.retention_days, by=operator(None))
    console.print(
        f"{counts.get('exchanges_scrubbed', 0)} exchanges and {counts.get('feedback_scrubbed', 0)} "
        f"feedback older than {settings.retention_days} days scrubbed."
    )


@privacy_app.command("log")
def log_command(ctx: typer.Context) -> None:
    """What was forgotten or expired, when and by whom (counts only)."""

    with Session(open_engine(ctx.obj)) as session:
        actions = session.exec(select(PrivacyAction).order_by(col(PrivacyAction.id))).all()
    table = Table("when", "action", "selected by", "requested by", "removed")
    for action in actions:
        removed = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in action.counts.items() if v)
        table.add_row(
            f"{action.created_at:%Y-%m-%d %H:%M}",
            action.action,
            action.selector,
            action.requested_by,
            removed or "nothing",
        )
    console.print(table)
