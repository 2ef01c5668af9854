"""What every CLI command module shares: consoles, the error exit, the engine."""

from __future__ import annotations

import getpass
from typing import NoReturn

import typer
from rich.console import Console
from sqlalchemy.engine import Engine

from supportbot import db
from supportbot.settings import Settings

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]Error:[/] {message}")
    raise typer.Exit(code)


def open_engine(settings: Settings) -> Engine:
    """The application database, migrated first when `auto_migrate` is on."""

    engine = db.create_db_engine(settings.resolved_database_url)
    if settings.auto_migrate:
        db.upgrade(engine)
    return engine


def operator(by: str | None) -> str:
    """Who a CLI change is recorded as: `--by`, else the login name it runs as."""
    return by or f"cli:{getpass.getuser()}"


def settings_of(ctx: typer.Context) -> Settings:
    """The settings the root callback loaded for this command."""
    settings: Settings = ctx.obj
    return settings
