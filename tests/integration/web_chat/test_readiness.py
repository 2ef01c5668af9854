"""/readyz reports each dependency on its own: down (503) versus degraded (200)."""

from __future__ import annotations

import httpx

from tests.support.app_server import free_port
from tests.support.slack_fixtures import BotFactory


def test_a_revoked_token_and_a_dead_llm_are_degraded_not_down(make_bot: BotFactory) -> None:
    dead_llm = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    with make_bot(llm_base_url=dead_llm) as bot:
        first = httpx.get(f"{bot.url}/readyz", timeout=10)
        assert first.status_code == 200
        checks = first.json()["checks"]
        assert checks["database"] == "ok"
        assert checks["slack"] == "ok"
        assert checks["llm"].startswith("unreachable")
        assert first.json()["status"] == "degraded"

        bot.fake.errors["auth.test"] = "token_revoked"
        revoked = bot.fake.wait_for(
            lambda: (
                (r := httpx.get(f"{bot.url}/readyz", timeout=10).json())["checks"]["slack"] != "ok"
                and r
            ),
            what="the revoked token to show",
        )
        assert revoked["checks"]["slack"] == "token rejected (token_revoked)"
        assert revoked["status"] == "degraded"


def test_everything_up_is_ok(make_bot: BotFactory) -> None:
    with make_bot() as bot:
        body = bot.fake.wait_for(
            lambda: (
                (r := httpx.get(f"{bot.url}/readyz", timeout=10).json())["checks"]["store"] == "ok"
                and r
            ),
            what="the store to load",
        )
        assert body["status"] == "ok"
        assert body["checks"]["llm"].startswith("not configured")
