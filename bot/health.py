"""Readiness as separate checks: what is down, and what only makes answers worse.

- database: unreachable or behind the shipped migrations → `down` (503): nothing can be
  recorded, nothing resumed.
- slack: `auth.test` with the bot token; revoked or wrong → `degraded` (the web chat
  still works).
- store: the document store answers a count → otherwise `degraded` (questions are
  handed to a person).
- llm: the OpenAI-compatible server lists its models → otherwise `degraded` (answers
  fall back to cited excerpts).

Each check is cached for a few seconds so probes stay cheap, and bounded in time so a
hanging dependency cannot hang the probe.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import httpx
import sqlalchemy as sa
import structlog
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import Engine

from bot.conversation import Conversation
from supportbot import db
from supportbot.settings import Settings

if TYPE_CHECKING:
    from bot.slack.app import SlackBot

log = structlog.stdlib.get_logger(__name__)

CHECK_TIMEOUT_S = 3.0
CACHE_S = 2.0
SLACK_TOKEN_ERRORS = {"invalid_auth", "token_revoked", "account_inactive", "not_authed"}

Check = Callable[[], Awaitable[str]]  # "ok", or what is wrong


class Health:
    def __init__(
        self,
        settings: Settings,
        conversation: Conversation,
        engine: Engine,
        slack: SlackBot | None,
        head: str | None,
    ) -> None:
        self.settings = settings
        self.conversation = conversation
        self.engine = engine
        self.slack = slack
        self.head = head
        self._cache: tuple[float, int, dict[str, Any]] | None = None

    async def report(self) -> tuple[int, dict[str, Any]]:
        """(HTTP status, body): 200 ok or degraded, 503 when the database is down."""
        if self._cache and time.monotonic() - self._cache[0] < CACHE_S:
            return self._cache[1], self._cache[2]
        names = ["database", "slack", "store", "llm"]
        checks: list[Check] = [self._database, self._slack, self._store, self._llm]
        results = await asyncio.gather(*(_bounded(check) for check in checks))
        body: dict[str, Any] = {"checks": dict(zip(names, results, strict=True))}
        failing = {name for name, result in body["checks"].items() if _failing(result)}
        if "database" in failing:
            status, body["status"] = 503, "down"
        elif failing:
            status, body["status"] = 200, "degraded"
        else:
            status, body["status"] = 200, "ok"
        if failing:
            log.warning("readiness.failing", **{n: body["checks"][n] for n in sorted(failing)})
        self._cache = (time.monotonic(), status, body)
        return status, body

    async def _database(self) -> str:
        def check() -> str:
            with self.engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
            current = db.current_revision(self.engine)
            return "ok" if current == self.head else f"schema at {current}, needs {self.head}"

        try:
            return await asyncio.to_thread(check)
        except sa.exc.SQLAlchemyError as error:
            return f"unreachable ({type(error).__name__})"

    async def _slack(self) -> str:
        if self.slack is None:
            return "not configured"
        try:
            await self.slack.app.client.auth_test()
        except SlackApiError as error:
            code = str(error.response.get("error"))
            return f"token rejected ({code})" if code in SLACK_TOKEN_ERRORS else f"error ({code})"
        except Exception as error:  # network: DNS, TLS, timeouts
            return f"unreachable ({type(error).__name__})"
        return "ok"

    async def _store(self) -> str:
        store = self.conversation.loaded_store()
        if store is None:
            return "not loaded yet" if self.conversation.uses_store else "not used"
        # Weaviate's searches run within its deadline (its client retries for a minute).
        count = store.count_documents
        if interactive := getattr(store, "interactive", None):
            count = partial(interactive, store.count_documents)
        try:
            await asyncio.to_thread(count)
        except Exception as error:  # every backend fails in its own way
            return f"unreachable ({type(error).__name__})"
        return "ok"

    async def _llm(self) -> str:
        if not self.settings.llm_configured or not self.conversation.uses_store:
            return "not configured (answers with excerpts)"
        base = (self.settings.llm_base_url or "https://api.openai.com/v1").rstrip("/")
        key = self.settings.llm_api_key.get_secret_value() if self.settings.llm_api_key else ""
        try:
            async with httpx.AsyncClient(timeout=CHECK_TIMEOUT_S) as client:
                response = await client.get(
                    f"{base}/models", headers={"Authorization": f"Bearer {key}"}
                )
        except httpx.HTTPError as error:
            return f"unreachable ({type(error).__name__})"
        if response.status_code in (401, 403):
            return f"key rejected (HTTP {response.status_code})"
        if response.status_code >= 500:
            return f"error (HTTP {response.status_code})"
        return "ok"


def _failing(result: str) -> bool:
    return not (result == "ok" or result.startswith(("not configured", "not used", "not loaded")))


async def _bounded(check: Check) -> str:
    try:
        return await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT_S + 1)
    except TimeoutError:
        return "unreachable (timed out)"
