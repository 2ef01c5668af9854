"""`supportbot serve`, `serve-model` and `scheduler`: the long-running processes."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer
import uvicorn

from bot.conversation import Conversation
from bot.exchange_log import ExchangeLog
from bot.mcp_server import build_mcp_server, http_app
from bot.server import create_app
from finetune_data.serving import build_model_server
from finetune_data.training import TrainingError, base_model
from scheduler.process import ConfigurationError
from scheduler.process import run as run_scheduler
from supportbot import __version__
from supportbot.cli.common import console, err_console, fail, open_engine, settings_of

commands = typer.Typer()


@commands.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Bind address [default: settings].")] = None,
    port: Annotated[int | None, typer.Option(help="Port [default: settings].")] = None,
) -> None:
    """Run the web server: health checks now, Slack events and web chat as they land."""

    settings = settings_of(ctx)
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


@commands.command()
def mcp(
    ctx: typer.Context,
    transport: Annotated[
        str, typer.Option(help="stdio (an AI tool starts this command) or http.")
    ] = "stdio",
    host: Annotated[str, typer.Option(help="Bind address (http).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (http).")] = 8200,
) -> None:
    """Serve the knowledge base to AI tools over MCP: tools `search` and `ask`, resources
    supportbot://products and supportbot://sources (http: at /mcp, with
    SUPPORTBOT_MCP_TOKEN as the bearer token)."""

    settings = settings_of(ctx)
    if transport not in ("stdio", "http"):
        fail(f"unknown transport {transport!r}: choose stdio or http", code=2)
    if transport == "http" and settings.mcp_token is None:
        fail("the http transport needs SUPPORTBOT_MCP_TOKEN (at least 16 characters)", code=2)
    engine = open_engine(settings)
    conversation = Conversation(settings, engine)
    conversation.warm_up()
    server = build_mcp_server(settings, conversation, ExchangeLog(engine))
    if transport == "stdio":
        server.run("stdio")  # the protocol owns stdout; logs go to stderr
        return
    assert settings.mcp_token is not None
    app = http_app(server, settings.mcp_token.get_secret_value(), host)
    err_console.print(f"MCP (streamable HTTP) at http://{host}:{port}/mcp")
    uvicorn.run(app, host=host, port=port, log_config=None)


@commands.command("serve-model")
def serve_model(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8100,
) -> None:
    """Serve the base model and the registry's local LoRA models through the OpenAI API
    (for small models; point SUPPORTBOT_LLM_BASE_URL at http://HOST:PORT/v1)."""

    settings = settings_of(ctx)
    try:
        base = base_model(settings)
    except TrainingError as error:
        fail(str(error), code=2)
    app = build_model_server(open_engine(settings), base)
    console.print(f"Serving {base.name} and local adapters at http://{host}:{port}/v1")
    uvicorn.run(app, host=host, port=port, log_config=None)


@commands.command()
def scheduler(ctx: typer.Context) -> None:
    """Run the scheduler process (sync, harvest, training, reports). Run exactly one;
    a second one waits as a standby and takes over if the first dies."""

    settings = settings_of(ctx)
    engine = open_engine(settings)
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    try:
        run_scheduler(settings, engine, stop)
    except ConfigurationError as error:
        fail(f"invalid schedule: {error}", code=2)
