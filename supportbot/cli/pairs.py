"""`supportbot pairs`: harvest, review and export Q&A pairs from the command line.

Decisions record the operator: `--by`, else the login name this command runs as.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from finetune_data.curation import CurationError, decide, get_pair, list_pairs, store_indexer
from finetune_data.curation import edit as edit_pair
from finetune_data.curation import mark as mark_pair
from finetune_data.datasets import export
from finetune_data.harvest import harvest as run_harvest
from finetune_data.history import as_dict, history
from finetune_data.importing import SAMPLE_PAIRS, import_pairs, read_records
from knowledge.answering import AnsweringService
from knowledge.components.embedders import sentence_embedder
from knowledge.stores import open_document_store
from supportbot.cli.common import console, err_console, fail, open_engine, operator
from supportbot.models import PairKind, PairStatus

pairs_app = typer.Typer(
    help="Curate Q&A pairs (harvest, import, list, show, approve, reject, edit, export).",
    no_args_is_help=True,
)

By = Annotated[str | None, typer.Option("--by", help="Who decides (default: the login name).")]


def _context(ctx: typer.Context) -> tuple[Any, Any]:
    return ctx.obj, open_engine(ctx.obj)


@pairs_app.command()
def harvest(ctx: typer.Context) -> None:
    """Turn exchanges rated since the last harvest into candidates and knowledge gaps."""

    settings, engine = _context(ctx)
    report = run_harvest(engine, sentence_embedder(settings))
    console.print(
        f"{report.candidates} new candidates, {report.gaps} knowledge gaps, "
        f"{report.merged} merged into similar questions, {report.skipped} skipped."
    )


@pairs_app.command("list")
def list_command(
    ctx: typer.Context,
    status: Annotated[str, typer.Option(help="candidate, approved, rejected or all")] = "candidate",
    kind: Annotated[str, typer.Option(help="answer, gap or all")] = "all",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List pairs (default: candidates awaiting review)."""

    _settings, engine = _context(ctx)
    try:
        wanted_status = None if status == "all" else PairStatus(status)
        wanted_kind = None if kind == "all" else PairKind(kind)
    except ValueError as error:
        fail(str(error), code=2)
    pairs = list_pairs(engine, wanted_status, wanted_kind, limit=1000)
    if as_json:
        console.print_json(json.dumps([_as_dict(p) for p in pairs]))
        return
    table = Table("id", "status", "kind", "origin", "question", "answer")
    for pair in pairs:
        table.add_row(
            str(pair.id),
            pair.status.value,
            pair.kind.value,
            pair.origin.value,
            pair.question[:60],
            (pair.answer or "—")[:60],
        )
    console.print(table)


@pairs_app.command()
def show(ctx: typer.Context, pair_id: int) -> None:
    """Show one pair whole, with its sources and its history."""

    _settings, engine = _context(ctx)
    try:
        pair = get_pair(engine, pair_id)
    except CurationError as error:
        fail(str(error))
    data = _as_dict(pair, full=True)
    data["history"] = [as_dict(event) for event in history(engine, pair_id)]
    console.print_json(json.dumps(data))


@pairs_app.command()
def approve(
    ctx: typer.Context,
    pair_id: int,
    answer: Annotated[str | None, typer.Option(help="Approve with this answer.")] = None,
    replaces: Annotated[
        int | None,
        typer.Option(help="An approved pair this one contradicts and replaces (it is rejected)."),
    ] = None,
    by: By = None,
) -> None:
    """Approve a pair (and index it as a verified answer). Refused while it contains
    personal data, or contradicts an approved pair it does not replace."""
    _decide(ctx, pair_id, "approved", by, answer, replaces)


@pairs_app.command()
def reject(ctx: typer.Context, pair_id: int, by: By = None) -> None:
    """Reject a pair."""
    _decide(ctx, pair_id, "rejected", by, None)


@pairs_app.command()
def mark(
    ctx: typer.Context,
    pair_id: int,
    test: Annotated[
        bool | None,
        typer.Option("--test/--train", help="In the frozen evaluation set (never trained on)."),
    ] = None,
    critical: Annotated[
        bool | None,
        typer.Option(help="A candidate model that gets it wrong is never promoted."),
    ] = None,
    by: By = None,
) -> None:
    """Put a pair in the evaluation set (--test) or back in training (--train), or mark
    it --critical."""

    _settings, engine = _context(ctx)
    if test is None and critical is None:
        fail("give --test/--train and/or --critical/--no-critical", code=2)
    try:
        pair = mark_pair(engine, pair_id, operator(by), test=test, critical=critical)
    except CurationError as error:
        fail(str(error))
    console.print(
        f"Pair {pair.id}: {'test' if pair.test else 'training'}"
        + (", critical" if pair.critical else "")
        + "."
    )


@pairs_app.command()
def edit(
    ctx: typer.Context,
    pair_id: int,
    question: Annotated[str | None, typer.Option(help="New question text.")] = None,
    answer: Annotated[str | None, typer.Option(help="New answer text.")] = None,
    by: By = None,
) -> None:
    """Edit a pair's question or answer."""

    settings, engine = _context(ctx)
    if question is None and answer is None:
        fail("give --question and/or --answer", code=2)
    try:
        pair = edit_pair(engine, pair_id, operator(by), store_indexer(settings), question, answer)
    except CurationError as error:
        fail(str(error))
    console.print(f"Pair {pair.id} edited by {pair.edited_by}.")


def _decide(
    ctx: typer.Context,
    pair_id: int,
    status: str,
    by: str | None,
    answer: str | None,
    replaces: int | None = None,
) -> None:

    settings, engine = _context(ctx)
    index = store_indexer(settings)
    try:
        pair = decide(
            engine,
            pair_id,
            PairStatus(status),
            operator(by),
            index,
            answer=answer,
            conflicts=index.conflicts,
            replaces=replaces,
        )
    except CurationError as error:
        fail(str(error))
    console.print(f"Pair {pair.id} {pair.status.value} by {pair.decided_by}.")


@pairs_app.command("import")
def import_command(
    ctx: typer.Context,
    path: Annotated[
        Path | None, typer.Argument(help="JSON Lines file of {question, answer} objects.")
    ] = None,
    sample: Annotated[
        bool, typer.Option("--sample", help="Import the pairs shipped with the sample knowledge.")
    ] = False,
    approve: Annotated[
        bool, typer.Option(help="Approve on import (--no-approve: add as candidates to review).")
    ] = True,
    test: Annotated[
        bool,
        typer.Option(help="Put the pairs in the frozen evaluation set, never trained on."),
    ] = False,
    by: By = None,
) -> None:
    """Import existing Q&A pairs (an FAQ, macros), with sources retrieved for each."""

    if (path is None) == (not sample):
        fail("give a file, or --sample for the shipped sample pairs", code=2)
    source = SAMPLE_PAIRS if sample else path
    assert source is not None
    if not source.is_file():
        fail(f"{source} is not a file", code=2)
    settings, engine = _context(ctx)
    records, problems = read_records(source)
    store = open_document_store(settings)
    if store.count_documents() == 0:
        err_console.print(
            "[yellow]The knowledge base is empty[/] (run `supportbot sync` first): "
            "pairs are imported without sources."
        )
    answering = AnsweringService(settings, store)

    def sources(question: str, product: str | None) -> list[dict[str, Any]]:
        filters = {"field": "meta.product", "operator": "==", "value": product} if product else None
        return answering.prompt_sources(question, filters)

    report = import_pairs(
        engine,
        records,
        operator(by),
        approve=approve,
        sources=sources,
        index=store_indexer(settings, store) if approve else None,
        test=test,
    )
    state = "approved" if approve else "candidates"
    console.print(
        f"{len(report.added)} pairs imported ({state}), {report.duplicates} already present."
    )
    for problem in problems + report.problems:
        err_console.print(f"[yellow]skipped:[/] {problem}")
    if problems and not report.added and not report.duplicates:
        raise typer.Exit(1)


@pairs_app.command("export")
def export_command(ctx: typer.Context) -> None:
    """Write approved pairs as a versioned chat-JSONL dataset under the data directory
    (not the test pairs; refused while two approved pairs contradict each other)."""

    settings, engine = _context(ctx)
    result = export(engine, settings.resolved_data_dir, sentence_embedder(settings))
    dataset = result.dataset
    console.print(
        f"Dataset {dataset.version}: {dataset.train_count} training and "
        f"{dataset.eval_count} validation examples\n  manifest: {result.manifest_path}"
    )
    if result.problems:
        for problem in result.problems:
            err_console.print(f"[yellow]not ready for fine-tuning:[/] {problem}")
        raise typer.Exit(1)


def _as_dict(pair: Any, full: bool = False) -> dict[str, Any]:
    data = {
        "id": pair.id,
        "status": pair.status.value,
        "kind": pair.kind.value,
        "origin": pair.origin.value,
        "question": pair.question,
        "answer": pair.answer,
        "comment": pair.comment,
        "surface": pair.surface,
        "merged_exchange_ids": pair.merged_exchange_ids,
        "test": pair.test,
        "critical": pair.critical,
        "decided_by": pair.decided_by,
        "decided_at": pair.decided_at.isoformat() if pair.decided_at else None,
        "edited_by": pair.edited_by,
    }
    if full:
        data["bot_answer"] = pair.bot_answer
        data["sources"] = [
            {k: s.get(k) for k in ("title", "section", "date")} for s in pair.context
        ]
    return data
