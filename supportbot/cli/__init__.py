"""The `supportbot` command line: the top floor.

This package is the composition root, the one place allowed to import every package
(bot, knowledge, finetune_data, scheduler) and to build their objects from settings.
One module per command group, each importing what it needs at its top. The root below
loads settings and finds a command's module by name only when that command runs, so
`supportbot db upgrade` or `config` does not pay for loading models, Haystack and Slack.
"""

from __future__ import annotations

import importlib
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from typer.core import TyperGroup

from supportbot import __version__
from supportbot.cli.common import console, fail
from supportbot.runtime import bootstrap, quiet_libraries
from supportbot.settings import Settings

# Click resolves a command (importing its module, and so Haystack, transformers…) before
# the root callback below runs: the libraries' quiet defaults must be set first.
quiet_libraries()

# command → (module under supportbot.cli, attribute): a Typer group, or the module's
# `commands` Typer holding that top-level command. Listed in `supportbot --help` order.
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("processes", "commands"),
    "scheduler": ("processes", "commands"),
    "serve-model": ("processes", "commands"),
    "mcp": ("processes", "commands"),
    "config": ("setup", "commands"),
    "db": ("setup", "db_app"),
    "sync": ("knowledge_base", "commands"),
    "search": ("knowledge_base", "commands"),
    "ask": ("knowledge_base", "commands"),
    "pairs": ("pairs", "pairs_app"),
    "train": ("learning", "commands"),
    "models": ("models", "models_app"),
    "report": ("learning", "commands"),
    "jobs": ("jobs", "jobs_app"),
    "privacy": ("privacy", "privacy_app"),
}


class CommandsByModule(TyperGroup):
    """A command group whose commands are loaded from their modules on first use."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS:
            return None
        module_name, attribute = COMMANDS[cmd_name]
        module = importlib.import_module(f"{__name__}.{module_name}")
        group = typer.main.get_group(getattr(module, attribute))
        if attribute == "commands":
            return group.get_command(ctx, cmd_name)
        group.name = cmd_name
        return group


app = typer.Typer(
    name="supportbot",
    cls=CommandsByModule,
    help="Customer-support answers for Slack and web chat, grounded in your docs.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,  # locals may hold secrets
)


def _version(value: bool) -> None:
    if value:
        console.print(f"supportbot {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Load settings once for the command that runs."""
    try:
        settings = Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"SUPPORTBOT_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in error.errors()
        )
        fail(f"invalid configuration: {problems}", code=2)
    bootstrap(settings)
    ctx.obj = settings


def main() -> None:
    app()
