"""`supportbot sync`, `search` and `ask`: the knowledge base from the terminal."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from bot.conversation import Conversation
from bot.exchange_log import ExchangeLog
from bot.scoping import Scoper
from knowledge.retrieval import RetrievalMode, build_retriever, retrieve
from knowledge.scope import Scope
from knowledge.sources import SourcesFileError, load_sources, resolve_sources_file
from knowledge.stores import open_document_store
from knowledge.sync import COUNTS, KnowledgeSync
from supportbot.cli.common import console, err_console, fail, open_engine, settings_of
from supportbot.models import Surface

commands = typer.Typer()


@commands.command()
def sync(
    ctx: typer.Context,
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Only these sources (repeatable).")
    ] = None,
) -> None:
    """Sync knowledge sources (manuals, update feeds, web pages) into the document store.

    Only new and changed items are embedded; items that disappeared lose their chunks.
    A broken item is reported and skipped. Exit status 1 when any item failed.
    """

    settings = settings_of(ctx)
    path = resolve_sources_file(settings.sources_file, settings.resolved_data_dir)
    try:
        sources = load_sources(path)
    except SourcesFileError as error:
        fail(str(error), code=2)
    if source:
        unknown = sorted(set(source) - {s.name for s in sources})
        if unknown:
            fail(f"no source named {', '.join(unknown)} in {path}", code=2)
        sources = [s for s in sources if s.name in source]
    console.print(f"Sources: {path}")

    engine = open_engine(settings)
    syncer = KnowledgeSync(settings, open_document_store(settings), engine=engine)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console
    ) as progress:
        tasks = {spec.name: progress.add_task(spec.name, total=None) for spec in sources}

        def on_progress(source_name: str, event: str, amount: int) -> None:
            if event == "total":
                progress.update(tasks[source_name], total=amount)
            else:
                progress.advance(tasks[source_name], amount)

        reports = syncer.sync(sources, on_progress)
    engine.dispose()
    _print_sync_summary(reports)
    if any(report.failed for report in reports):
        raise typer.Exit(1)


def _print_sync_summary(reports: list[Any]) -> None:

    table = Table(title="Sync summary")
    table.add_column("source")
    for column in COUNTS:
        table.add_column(column.replace("_", " "), justify="right")
    table.add_column("seconds", justify="right")
    for report in reports:
        table.add_row(
            report.source,
            *(str(value) for value in report.counts().values()),
            f"{report.duration_s:.1f}",
        )
    console.print(table)
    for report in reports:
        for error in report.errors:
            err_console.print(f"[red]failed[/] {error['item']}: {error['error']}")


@commands.command()
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="What to look for.")],
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, max=50)] = 5,
    mode: Annotated[str, typer.Option(help="hybrid, bm25 or dense.")] = "hybrid",
) -> None:
    """Search the knowledge base and show the best passages (no answer generation)."""

    settings = settings_of(ctx)
    try:
        retrieval_mode = RetrievalMode(mode)
    except ValueError:
        fail(f"unknown mode {mode!r}: choose hybrid, bm25 or dense", code=2)
    store = open_document_store(settings)
    if store.count_documents() == 0:
        fail("the knowledge base is empty: run `supportbot sync` first")
    pipeline = build_retriever(settings, store, retrieval_mode)
    table = Table(title=f"Results for: {query}")
    for column in ("score", "title", "section", "source", "passage"):
        table.add_column(column, overflow="fold")
    for document in retrieve(pipeline, query, top_k=top_k):
        meta = document.meta
        dated = f" ({meta['published_at'][:10]})" if meta.get("published_at") else ""
        table.add_row(
            f"{document.score or 0:.3f}",
            f"{meta.get('title') or ''}{dated}",
            meta.get("section") or "",
            meta.get("source") or "",
            (document.content or "")[:200],
        )
    console.print(table)


@commands.command()
def ask(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="The question.")],
    product: Annotated[
        str | None,
        typer.Option(help="Answer for this product (default: the product the question names)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Ask a question from the terminal: the cited answer, its sources and timings."""

    settings = settings_of(ctx)
    engine = open_engine(settings)
    # The same conversation service, scoper and exchange log as Slack and the web chat.
    conversation = Conversation(settings, engine)
    exchanges = ExchangeLog(engine)
    scoper = Scoper(settings, exchanges)
    decision = scoper.resolve(_chosen(scoper, product), None, question)
    if decision.needs_choice:
        fail(
            f"the question names several products ({', '.join(decision.choices)}): "
            "choose one with --product",
            code=2,
        )
    conversation.warm_up()
    store = conversation.loaded_store()
    if store is None or store.count_documents() == 0:
        fail("the knowledge base is empty: run `supportbot sync` first")
    if decision.origin == "detected":
        err_console.print(f"Answering for: {decision.scope.display} (named in the question)")
    streaming = settings.llm_configured and not as_json
    started = time.perf_counter()
    try:
        answer = conversation.answer(
            question,
            scope=decision.scope,
            on_token=(lambda t: console.out(t, end="", highlight=False)) if streaming else None,
        )
    except ValueError as error:  # empty or oversized question
        fail(str(error), code=2)
    total_ms = (time.perf_counter() - started) * 1000
    exchange_id = exchanges.record(answer, Surface.CLI, total_ms=total_ms, scope=decision.scope)
    engine.dispose()

    if as_json:
        payload = asdict(answer)
        payload.update(exchange_id=exchange_id, abstained=answer.abstained)
        payload["timings_ms"]["total_ms"] = round(total_ms, 1)
        console.print_json(json.dumps(payload))
        return
    if streaming and answer.mode == "generated":
        console.print("\n")  # the streamed text is already on screen; show the clean one
    console.print(answer.text, highlight=False, markup=False)
    if answer.citations:
        console.print("\n[bold]Sources[/]")
        for citation in answer.citations:
            where = citation.section or citation.title or "Untitled"
            if citation.title and not where.startswith(citation.title):
                where = f"{citation.title} - {where}"
            dated = f" ({citation.published_at[:10]})" if citation.published_at else ""
            link = f"  {citation.url}" if citation.url else ""
            console.print(
                f"  [{citation.number}] {where}{dated}{link}", highlight=False, markup=False
            )
    if answer.abstained:
        console.print("\n[yellow]Abstained: flagged for a human.[/]")
    stages = ", ".join(f"{k.removesuffix('_ms')} {v:.0f} ms" for k, v in answer.timings_ms.items())
    console.print(
        f"\n[dim]{answer.mode} · model {answer.model_id or '-'} · {stages} · "
        f"total {total_ms:.0f} ms · exchange {exchange_id}[/]"
    )


def _chosen(scoper: Scoper, product: str | None) -> Scope:
    """The scope `--product` asks for: a product's name or alias in any case, else an error
    listing the products (as the web chat's `product` parameter)."""
    if product is None:
        return Scope()
    named = scoper.catalog.named(product)
    if named is None:
        known = ", ".join(scoper.products) or "none are configured"
        fail(f"unknown product {product!r}: choose one of {known}", code=2)
    return Scope.of_product(named)
