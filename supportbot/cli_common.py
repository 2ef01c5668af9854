"""What every CLI command module shares: consoles, the error exit, the engine."""

from __future__ import annotations

import getpass
from typing import Any, NoReturn

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]Error:[/] {message}")
    raise typer.Exit(code)


def open_engine(settings: Any) -> Any:
    """The application database, migrated first when `auto_migrate` is on."""
    from supportbot import db

    engine = db.create_db_engine(settings.resolved_database_url)
    if settings.auto_migrate:
        db.upgrade(engine)
    return engine


def operator(by: str | None) -> str:
    """Who a CLI change is recorded as: `--by`, else the login name it runs as."""
    return by or f"cli:{getpass.getuser()}"
