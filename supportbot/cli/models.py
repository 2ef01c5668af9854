"""`supportbot models`: the model registry (list, register, promote, rollback)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from supportbot.cli.common import console, fail, open_engine, operator
from supportbot.registry import RegistryError, list_models
from supportbot.registry import promote as go_live
from supportbot.registry import register as add
from supportbot.registry import rollback as restore

models_app = typer.Typer(
    help="Model registry (list, register, promote, rollback).", no_args_is_help=True
)
By = Annotated[str | None, typer.Option("--by", help="Who decides (default: the login name).")]
Reason = Annotated[str | None, typer.Option(help="Why, for the record.")]


def _engine(ctx: typer.Context) -> Any:
    return open_engine(ctx.obj)


@models_app.command("list")
def list_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Registered models; the live one is marked."""

    settings = ctx.obj
    models = list_models(_engine(ctx))
    rows = [
        {
            "model_id": m.model_id,
            "backend": m.backend,
            "active": m.is_active,
            "eval_scores": m.eval_scores,
            "promoted_at": m.promoted_at.isoformat() if m.promoted_at else None,
        }
        for m in models
    ]
    if as_json:
        console.print_json(json.dumps({"base_model": settings.llm_model, "models": rows}))
        return
    table = Table("", "model", "backend", "scores", "promoted")
    for row in rows:
        gate = row["eval_scores"].get("gate") or {}
        scores = ", ".join(
            f"{k} {v}" for k, v in row["eval_scores"].items() if not isinstance(v, dict)
        )
        if gate:
            scores += f"; gate: {gate.get('wins')} wins, {gate.get('losses')} losses"
        waiting = "passed the gate, awaiting a lead" if gate.get("awaiting_approval") else ""
        table.add_row(
            "●" if row["active"] else "",
            row["model_id"],
            row["backend"],
            scores,
            row["promoted_at"] or waiting,
        )
    console.print(table)
    if not any(row["active"] for row in rows):
        console.print(f"No model promoted: answering with the base model {settings.llm_model}.")


@models_app.command()
def register(
    ctx: typer.Context,
    model_id: str,
    backend: Annotated[str, typer.Option(help="local, openai or external")] = "external",
) -> None:
    """Register a model served elsewhere (e.g. a LoRA on vLLM) so it can be promoted."""

    try:
        add(_engine(ctx), model_id, backend)
    except RegistryError as error:
        fail(str(error))
    console.print(f"Registered {model_id} ({backend}); promote it to go live.")


@models_app.command()
def promote(ctx: typer.Context, model_id: str, by: By = None, reason: Reason = None) -> None:
    """Make a registered model the one that answers."""

    try:
        change = go_live(_engine(ctx), model_id, operator(by), reason)
    except RegistryError as error:
        fail(str(error))
    console.print(f"{model_id} is live (was {change.previous_model_id or 'the base model'}).")


@models_app.command()
def rollback(ctx: typer.Context, by: By = None, reason: Reason = None) -> None:
    """Restore the model that was live before the latest promotion."""

    try:
        change = restore(_engine(ctx), operator(by), reason)
    except RegistryError as error:
        fail(str(error))
    console.print(f"Rolled back to {change.model_id or 'the base model'}.")
