"""`supportbot report` and `train`: how the bot is doing, and the learning loop."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table
from slack_sdk.errors import SlackApiError

from bot.slack.reports import post_report
from finetune_data.report import build_report, render
from finetune_data.training import TrainingError
from finetune_data.training import train as run_training
from knowledge.components.embedders import sentence_embedder
from supportbot.cli.common import console, fail, open_engine, settings_of

commands = typer.Typer()


@commands.command()
def report(
    ctx: typer.Context,
    days: Annotated[int, typer.Option(min=1, help="Period: the last N days.")] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    post: Annotated[
        bool, typer.Option("--post", help="Also post it to the leads' Slack channel.")
    ] = False,
) -> None:
    """Questions, answered vs abstained, 👍 rate, hand-offs and the top knowledge gaps."""

    settings = settings_of(ctx)
    engine = open_engine(settings)
    result = build_report(engine, sentence_embedder(settings), days=days)
    if as_json:
        console.print_json(json.dumps(result.as_dict()))
    else:
        console.print(render(result), highlight=False, markup=False)
    if post:
        try:
            channel = post_report(settings, render(result, slack=True))
        except (ValueError, SlackApiError) as error:
            fail(f"could not post the report: {error}")
        console.print(f"Posted to {channel}.")


@commands.command()
def train(
    ctx: typer.Context,
    wait: Annotated[
        bool,
        typer.Option(
            help="With the openai backend, wait for the job and evaluate it here; "
            "--no-wait leaves that to the scheduler."
        ),
    ] = True,
) -> None:
    """Export curated pairs, fine-tune, evaluate against the live model, promote if better."""

    settings = settings_of(ctx)
    engine = open_engine(settings)
    try:
        outcome = run_training(
            settings,
            engine,
            sentence_embedder(settings),
            lambda m: console.print(f"• {m}"),
            wait=wait,
        )
    except TrainingError as error:
        fail(str(error))
    decision = outcome.decision
    if decision is None:
        console.print(
            f"Run {outcome.run.id} is still training ({outcome.run.external_id}); the scheduler "
            "follows it and evaluates the model when it is done."
        )
        return
    table = Table("model", "similarity to reference", "facts agree", "valid citations")
    for scored in (decision.candidate, decision.live):
        table.add_row(
            scored.model,
            f"{scored.similarity:.3f}",
            f"{scored.facts:.0%}",
            f"{scored.citations:.0%}",
        )
    console.print(table)
    if decision.promoted:
        verdict = "PROMOTED"
    elif decision.promote:
        verdict = (
            "passed, awaiting a lead's approval "
            f"(supportbot models promote {decision.candidate.model})"
        )
    else:
        verdict = "kept the live model"
    console.print(
        f"Gate: {verdict}: {decision.reason} ({decision.wins} wins, {decision.losses} losses)."
    )
