"""The FastAPI application that `supportbot serve` runs.

One process and one port serve every front end: health checks, Slack's events
endpoint (when Slack is configured) and, as it lands, the web chat.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.starlette.async_handler import to_starlette_response
from slack_bolt.async_app import AsyncBoltRequest
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.conversation import Answerer, Conversation
from bot.delivery import Delivery
from bot.exchange_log import ExchangeLog
from bot.health import Health
from bot.slack.app import build_slack_app
from bot.slack.door import Door, Refused
from bot.web.api import build_api
from bot.web.guard import Guard
from bot.web.hardening import Hardening
from bot.web.page import build_page
from bot.web.review import build_review
from supportbot import __version__, db
from supportbot.settings import Settings

if TYPE_CHECKING:
    from bot.slack.app import SlackBot

log = structlog.stdlib.get_logger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"


def create_app(settings: Settings, answerer: Answerer | None = None) -> FastAPI:
    """The app for `settings`; `answerer` replaces the answering pipeline (benchmarks)."""
    engine = db.create_db_engine(settings.resolved_database_url)
    conversation = Conversation(settings, engine, answerer)
    exchanges = ExchangeLog(engine)
    delivery = Delivery(settings, engine)
    slack = _slack(settings, conversation, exchanges, delivery)
    # The migrations shipped with this process cannot change while it runs; reading
    # them once keeps readiness probes to one cheap query.
    head = db.head_revision()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.auto_migrate:
            db.upgrade(engine)
        log.info(
            "supportbot.started",
            version=__version__,
            database=db.safe_url(settings.resolved_database_url),
            document_store=settings.document_store.value,
            llm="configured" if settings.llm_configured else "none (answers with excerpts)",
        )
        if slack is not None:
            await slack.start()
        socket_mode = await _start_socket_mode(settings, slack)
        # Load the knowledge base and embedding model before the first question does.
        warm_up = asyncio.get_running_loop().run_in_executor(None, conversation.warm_up)
        # Heartbeat, and resume what a dead or stopped server left unanswered.
        await delivery.start()
        yield
        # SIGTERM: uvicorn has stopped taking connections; finish what is in flight.
        if socket_mode is not None:
            await socket_mode.close_async()
        await delivery.stop(settings.shutdown_grace_s)
        if slack is not None:
            await slack.stop()
        warm_up.cancel()
        web_pool.shutdown(wait=False, cancel_futures=True)
        engine.dispose()

    app = FastAPI(title="supportbot", version=__version__, lifespan=lifespan)
    app.add_exception_handler(RequestValidationError, _invalid_request)  # type: ignore[arg-type]
    app.state.settings = settings
    app.state.engine = engine
    app.state.conversation = conversation
    app.state.slack = slack
    app.state.delivery = delivery
    web_pool = _mount_web(app, settings, conversation, exchanges, slack, delivery)
    if slack is not None:
        assert settings.slack_signing_secret is not None
        door = Door(settings.slack_signing_secret.get_secret_value(), settings.slack_max_body_bytes)

        @app.post("/slack/events", tags=["slack"], include_in_schema=False)
        async def slack_events(request: Request) -> Response:
            """Events, interactivity and slash commands: verified at the door, then Bolt."""
            try:
                body = await door.admit(request)
            except Refused as refused:
                return refused.response()
            try:
                bolt_request = AsyncBoltRequest(
                    body=body.decode("utf-8"),
                    query=request.query_params,  # type: ignore[arg-type]
                    headers=request.headers,  # type: ignore[arg-type]
                )
                response = await slack.app.async_dispatch(bolt_request)
            except (ValueError, TypeError, AttributeError, KeyError, RecursionError) as error:
                # Signed but unparseable (bad UTF-8 or JSON, nesting past any sense).
                log.warning("slack.malformed_request", error=type(error).__name__)
                return JSONResponse({"error": "malformed_payload"}, status_code=400)
            if response.status == 404 and bolt_request.body.get("type") == "event_callback":
                # An event no listener wants: acknowledged, or Slack retries it.
                return Response(status_code=200)
            return to_starlette_response(response)

    api_key = settings.web_api_key.get_secret_value() if settings.web_api_key else None
    app.add_middleware(Hardening, api_key=api_key)
    app.add_middleware(RequestContextMiddleware)

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """Liveness: the process is up."""
        return {"status": "ok", "version": __version__}

    health = Health(settings, conversation, engine, slack, head)

    @app.get("/readyz", tags=["operations"])
    async def readyz() -> JSONResponse:
        """Readiness, check by check: `down` (503) when the database is unreachable or
        behind; `degraded` (200) when Slack's token, the store or the LLM fails."""
        status, body = await health.report()
        return JSONResponse(body, status_code=status)

    return app


async def _invalid_request(_request: Request, error: RequestValidationError) -> JSONResponse:
    """422 with where and why, never the input echoed back: hostile input (lone
    surrogates, NaN, megabytes) cannot be serialised, and need not be returned."""
    errors = [
        {
            "loc": [_printable(part) for part in item.get("loc", ())],
            "msg": _printable(item.get("msg", "")),
            "type": _printable(item.get("type", "")),
        }
        for item in error.errors()[:20]
    ]
    return JSONResponse({"detail": errors}, status_code=422)


def _printable(value: object) -> str | int:
    if isinstance(value, int):
        return value
    return str(value)[:200].encode("utf-8", "replace").decode("utf-8")


class RequestContextMiddleware:
    """Request ids, one log line per request, and JSON 500s without tracebacks.

    Plain ASGI rather than `@app.middleware("http")`: Starlette's BaseHTTPMiddleware
    pipes every response through a task and a stream, which costs Slack's acks time
    under load (benchmarks/slack_ack.py).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # A caller-supplied id lets a proxy's logs and ours be joined; otherwise make one.
        request_id = (Headers(scope=scope).get(REQUEST_ID_HEADER) or uuid.uuid4().hex)[:64]
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started, status = True, message["status"]
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("request.failed", method=scope["method"], path=scope["path"])
            if not response_started:
                body = {"error": "internal_error", "request_id": request_id}
                headers = {REQUEST_ID_HEADER: request_id}
                await JSONResponse(body, status_code=500, headers=headers)(scope, receive, send)
        finally:
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )
            structlog.contextvars.unbind_contextvars("request_id")


def _mount_web(
    app: FastAPI,
    settings: Settings,
    conversation: Conversation,
    exchanges: ExchangeLog,
    slack: SlackBot | None,
    delivery: Delivery,
) -> ThreadPoolExecutor:
    """The web chat: /api (JSON and Server-Sent Events) and the page at /."""

    guard = Guard(settings)
    api, pool = build_api(settings, conversation, exchanges, guard, slack, delivery)
    page, static = build_page(settings, guard)
    app.include_router(api)
    app.include_router(build_review(settings, conversation, exchanges))
    app.include_router(page)
    app.mount("/static", static, name="static")
    if settings.web_allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.web_allowed_origins,
            allow_methods=["POST"],
            allow_headers=["Content-Type", "Authorization", "X-API-Key"],
            max_age=600,
        )
    return pool


def _slack(
    settings: Settings, conversation: Conversation, exchanges: ExchangeLog, delivery: Delivery
) -> SlackBot | None:
    if settings.slack_bot_token is None or settings.slack_signing_secret is None:
        return None

    return build_slack_app(settings, conversation, exchanges, delivery)


async def _start_socket_mode(settings: Settings, slack: SlackBot | None) -> Any:
    """Socket Mode when an app-level token is set: no public URL needed."""
    if slack is None or settings.slack_app_token is None:
        return None

    handler = AsyncSocketModeHandler(slack.app, settings.slack_app_token.get_secret_value())
    await handler.connect_async()
    log.info("slack.socket_mode_connected")
    return handler
