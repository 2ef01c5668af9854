"""The FastAPI application that `supportbot serve` runs.

It hosts health checks now; the Slack events endpoint and the web chat mount here
as they land, so one process and one port serve every front end.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import sqlalchemy as sa
import structlog
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from supportbot import __version__, db
from supportbot.settings import Settings

log = structlog.stdlib.get_logger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"


def create_app(settings: Settings) -> FastAPI:
    engine = db.create_db_engine(settings.resolved_database_url)
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
        yield
        engine.dispose()

    app = FastAPI(title="supportbot", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = engine

    @app.middleware("http")
    async def request_context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        # A caller-supplied id lets a proxy's logs and ours be joined; otherwise make one.
        request_id = request.headers.get(REQUEST_ID_HEADER) or uuid.uuid4().hex
        request_id = request_id[:64]
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        try:
            response = await call_next(request)
        except Exception:
            log.exception("request.failed", method=request.method, path=request.url.path)
            response = JSONResponse(
                {"error": "internal_error", "request_id": request_id}, status_code=500
            )
        response.headers[REQUEST_ID_HEADER] = request_id
        log.info(
            "request",
            method=request.method,
            path=request.url.path,
            status=response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        structlog.contextvars.unbind_contextvars("request_id")
        return response

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """Liveness: the process is up."""
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", tags=["operations"])
    def readyz() -> JSONResponse:
        """Readiness: the database answers and its schema is current."""
        try:
            with engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
            current = db.current_revision(engine)
        except sa.exc.SQLAlchemyError as error:
            log.warning("readiness.database_unreachable", error=str(error))
            return JSONResponse(
                {"status": "unavailable", "database": "unreachable"}, status_code=503
            )
        if current != head:
            return JSONResponse(
                {"status": "unavailable", "database": f"schema at {current}, needs {head}"},
                status_code=503,
            )
        return JSONResponse({"status": "ok", "database": "ok", "schema": current})

    return app
