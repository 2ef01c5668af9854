"""The `supportbot` command line.

This module is the composition root: it is the one place in the spine that reaches
into the feature packages (bot, knowledge, ...), and only inside commands, so
`supportbot --help` stays fast and the spine's imports stay one-way.
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

import typer
from pydantic import SecretStr, ValidationError
from rich.table import Table

from supportbot import __version__
from supportbot.cli_common import console, err_console, fail, open_engine
from supportbot.cli_jobs import jobs_app
from supportbot.cli_models import models_app
from supportbot.cli_pairs import pairs_app
from supportbot.cli_privacy import privacy_app
from supportbot.logs import REDACTED
from supportbot.settings import ENV_PREFIX, Settings, value_sources

app = typer.Typer(
    name="supportbot",
    help="Customer-support answers for Slack and web chat, grounded in your docs.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,  # locals may hold secrets
)
db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(pairs_app, name="pairs")
app.add_typer(models_app, name="models")
app.add_typer(jobs_app, name="jobs")
app.add_typer(privacy_app, name="privacy")


def _settings(ctx: typer.Context) -> Settings:
    settings: Settings = ctx.obj
    return settings


_fail = fail


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
        _fail(f"invalid configuration: {problems}", code=2)
    from supportbot.runtime import bootstrap

    bootstrap(settings)
    ctx.obj = settings


# --- serve / config / db -------------------------------------------------------------


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Bind address [default: settings].")] = None,
    port: Annotated[int | None, typer.Option(help="Port [default: settings].")] = None,
) -> None:
    """Run the web server: health checks now, Slack events and web chat as they land."""
    import uvicorn

    from bot.server import create_app

    settings = _settings(ctx)
    host = host or settings.host
    port = port or settings.port
    console.print(f"supportbot {__version__} serving on http://{host}:{port}  (Ctrl+C to stop)")
    # log_config=None keeps our structured, secret-scrubbing logging in charge; the
    # app logs each request itself (with its request id), so uvicorn's access log is off.
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        # Client addresses (rate limits, logs) come from trusted proxies' headers.
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )


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


@app.command()
def config(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show the effective settings, secrets masked, and where each value came from."""
    rows = effective_config(_settings(ctx))
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
    from sqlalchemy.exc import SQLAlchemyError

    from supportbot import db

    settings = _settings(ctx)
    url = settings.resolved_database_url
    engine = db.create_db_engine(url)
    try:
        before = db.current_revision(engine)
        db.upgrade(engine, revision)
        after = db.current_revision(engine)
    except SQLAlchemyError as error:
        _fail(
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
    from sqlalchemy.exc import SQLAlchemyError

    from supportbot import db

    url = _settings(ctx).resolved_database_url
    engine = db.create_db_engine(url)
    try:
        current = db.current_revision(engine)
    except SQLAlchemyError as error:
        _fail(f"cannot read {db.safe_url(url)}: {error.__class__.__name__}")
    finally:
        engine.dispose()
    head = db.head_revision()
    state = "up to date" if current == head else f"behind; run `supportbot db upgrade` ({head})"
    console.print(f"{db.safe_url(url)}: revision {current or 'none'} — {state}")


@db_app.command("revision")
def db_revision(
    message: Annotated[str, typer.Argument(help="What the schema change does.")],
) -> None:
    """(Developers) Write a migration from changes to supportbot/models.py."""
    from supportbot import db

    path = db.autogenerate_revision(message)
    console.print(f"Wrote {path}; review it before committing.")


# --- features that later work fills in ----------------------------------------------


@app.command()
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
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from knowledge.sources import SourcesFileError, load_sources, resolve_sources_file
    from knowledge.stores import open_document_store
    from knowledge.sync import KnowledgeSync

    settings = _settings(ctx)
    path = resolve_sources_file(settings.sources_file, settings.resolved_data_dir)
    try:
        sources = load_sources(path)
    except SourcesFileError as error:
        _fail(str(error), code=2)
    if source:
        unknown = sorted(set(source) - {s.name for s in sources})
        if unknown:
            _fail(f"no source named {', '.join(unknown)} in {path}", code=2)
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
    from knowledge.sync import COUNTS

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


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="What to look for.")],
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, max=50)] = 5,
    mode: Annotated[str, typer.Option(help="hybrid, bm25 or dense.")] = "hybrid",
) -> None:
    """Search the knowledge base and show the best passages (no answer generation)."""
    from knowledge.retrieval import RetrievalMode, build_retrieval_pipeline, retrieve
    from knowledge.stores import open_document_store

    settings = _settings(ctx)
    try:
        retrieval_mode = RetrievalMode(mode)
    except ValueError:
        _fail(f"unknown mode {mode!r}: choose hybrid, bm25 or dense", code=2)
    store = open_document_store(settings)
    if store.count_documents() == 0:
        _fail("the knowledge base is empty: run `supportbot sync` first")
    pipeline = build_retrieval_pipeline(settings, store, retrieval_mode)
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


@app.command()
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
    import time
    from dataclasses import asdict

    from knowledge.answering import AnsweringService
    from knowledge.exchanges import record_exchange
    from knowledge.stores import open_document_store
    from supportbot.models import Surface
    from supportbot.registry import active_model_id

    settings = _settings(ctx)
    store = open_document_store(settings)
    if store.count_documents() == 0:
        _fail("the knowledge base is empty: run `supportbot sync` first")
    if product is None:
        product = _detected_product(settings, question)
    filters = {"field": "meta.product", "operator": "==", "value": product} if product else None
    engine = open_engine(settings)
    service = AnsweringService(settings, store)
    streaming = settings.llm_configured and not as_json
    started = time.perf_counter()
    try:
        answer = service.answer(
            question,
            model_id=active_model_id(engine, settings.llm_model),
            filters=filters,
            on_token=(lambda t: console.out(t, end="", highlight=False)) if streaming else None,
        )
    except ValueError as error:  # empty or oversized question
        _fail(str(error), code=2)
    total_ms = (time.perf_counter() - started) * 1000
    scope = f"product: {product}" if product else None
    exchange_id = record_exchange(engine, answer, Surface.CLI, total_ms=total_ms, scope=scope)
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


def _detected_product(settings: Settings, question: str) -> str | None:
    from knowledge.products import load_catalog
    from knowledge.sources import SourcesFileError, resolve_sources_file

    try:
        catalog = load_catalog(
            resolve_sources_file(settings.sources_file, settings.resolved_data_dir)
        )
    except SourcesFileError:
        return None
    detected = catalog.detect(question)
    if detected.ambiguous:
        _fail(
            f"the question names several products ({', '.join(detected.products)}): "
            "choose one with --product",
            code=2,
        )
    if detected.product:
        err_console.print(f"Answering for: {detected.product} (named in the question)")
    return detected.product


@app.command()
def report(
    ctx: typer.Context,
    days: Annotated[int, typer.Option(min=1, help="Period: the last N days.")] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    post: Annotated[
        bool, typer.Option("--post", help="Also post it to the leads' Slack channel.")
    ] = False,
) -> None:
    """Questions, answered vs abstained, 👍 rate, hand-offs and the top knowledge gaps."""
    from finetune_data.harvest import sentence_embedder
    from finetune_data.report import build_report, render

    settings = _settings(ctx)
    engine = open_engine(settings)
    result = build_report(engine, sentence_embedder(settings), days=days)
    if as_json:
        console.print_json(json.dumps(result.as_dict()))
    else:
        console.print(render(result), highlight=False, markup=False)
    if post:
        from slack_sdk.errors import SlackApiError

        from bot.slack.reports import post_report

        try:
            channel = post_report(settings, render(result, slack=True))
        except (ValueError, SlackApiError) as error:
            _fail(f"could not post the report: {error}")
        console.print(f"Posted to {channel}.")


@app.command()
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
    from finetune_data.harvest import sentence_embedder
    from finetune_data.pipeline import TrainingError
    from finetune_data.pipeline import train as run_training

    settings = _settings(ctx)
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
        _fail(str(error))
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


@app.command("serve-model")
def serve_model(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8100,
) -> None:
    """Serve the base model and the registry's local LoRA models through the OpenAI API
    (for small models; point SUPPORTBOT_LLM_BASE_URL at http://HOST:PORT/v1)."""
    import uvicorn

    from finetune_data.pipeline import TrainingError, base_model
    from finetune_data.serving import build_model_server

    settings = _settings(ctx)
    try:
        base = base_model(settings)
    except TrainingError as error:
        _fail(str(error), code=2)
    app = build_model_server(open_engine(settings), base)
    console.print(f"Serving {base.name} and local adapters at http://{host}:{port}/v1")
    uvicorn.run(app, host=host, port=port, log_config=None)


@app.command()
def scheduler(ctx: typer.Context) -> None:
    """Run the scheduler process (sync, harvest, training, reports). Run exactly one;
    a second one waits as a standby and takes over if the first dies."""
    import signal
    import threading

    from scheduler.process import ConfigurationError
    from scheduler.process import run as run_scheduler

    settings = _settings(ctx)
    engine = open_engine(settings)
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    try:
        run_scheduler(settings, engine, stop)
    except ConfigurationError as error:
        _fail(f"invalid schedule: {error}", code=2)


def main() -> None:
    app()
