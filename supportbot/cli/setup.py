"""`supportbot config` and `supportbot db`: the effective settings and the schema."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

import typer
from pydantic import SecretStr
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from supportbot import db
from supportbot.cli.common import console, fail, settings_of
from supportbot.logs import REDACTED
from supportbot.settings import ENV_PREFIX, Settings, value_sources

commands = typer.Typer()

db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)


def _mask_url(value: str) -> str:
    """Hide a password embedded in a URL (postgresql://user:pw@host/db)."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return value
    if parts.password is None:
        return value
    netloc = parts.netloc.replace(f":{parts.password}@", f":{REDACTED}@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _display(value: Any) -> str:
    if isinstance(value, SecretStr):
        return REDACTED if value.get_secret_value() else "(empty)"
    if value is None:
        return "(not set)"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "(none)"
    if hasattr(value, "value"):  # enums
        return str(value.value)
    return _mask_url(str(value))


def effective_config(settings: Settings) -> list[dict[str, str]]:
    """One row per setting: its variable, effective value (secrets masked) and origin."""
    sources = value_sources(settings)
    rows = [
        {
            "variable": f"{ENV_PREFIX}{name.upper()}",
            "value": _display(getattr(settings, name)),
            "source": sources[name],
        }
        for name in type(settings).model_fields
    ]
    rows.append(
        {
            "variable": "(effective database)",
            "value": _mask_url(settings.resolved_database_url),
            "source": "derived",
        }
    )
    return rows


@commands.command()
def config(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show the effective settings, secrets masked, and where each value came from."""
    rows = effective_config(settings_of(ctx))
    if as_json:
        console.print_json(json.dumps(rows))
        return
    table = Table(title="supportbot settings")
    for column in ("variable", "value", "source"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(row["variable"], row["value"], row["source"])
    console.print(table)


@db_app.command("upgrade")
def db_upgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply pending migrations (creates the database on first run)."""

    settings = settings_of(ctx)
    url = settings.resolved_database_url
    engine = db.create_db_engine(url)
    try:
        before = db.current_revision(engine)
        db.upgrade(engine, revision)
        after = db.current_revision(engine)
    except SQLAlchemyError as error:
        fail(
            f"cannot migrate {db.safe_url(url)}: {error.__class__.__name__}: {error.orig or error}"
        )
    finally:
        engine.dispose()
    if before == after:
        console.print(f"Database {db.safe_url(url)} is up to date (revision {after}).")
    else:
        console.print(f"Database {db.safe_url(url)} upgraded: {before or 'empty'} → {after}.")


@db_app.command("current")
def db_current(ctx: typer.Context) -> None:
    """Show the database's schema revision and whether migrations are pending."""

    url = settings_of(ctx).resolved_database_url
    engine = db.create_db_engine(url)
    try:
        current = db.current_revision(engine)
    except SQLAlchemyError as error:
        fail(f"cannot read {db.safe_url(url)}: {error.__class__.__name__}")
    finally:
        engine.dispose()
    head = db.head_revision()
    state = "up to date" if current == head else f"behind; run `supportbot db upgrade` ({head})"
    console.print(f"{db.safe_url(url)}: revision {current or 'none'} — {state}")


@db_app.command("revision")
def db_revision(
    message: Annotated[str, typer.Argument(help="What the schema change does.")],
) -> None:
    """(Developers) Write a migration from changes to the tables in supportbot/models/."""

    path = db.autogenerate_revision(message)
    console.print(f"Wrote {path}; review it before committing.")
