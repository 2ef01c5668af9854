"""Transport: HTTP mode at /slack/events, Socket Mode when an app-level token is set."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.server import create_app
from supportbot.settings import Settings


def test_without_slack_credentials_there_is_no_slack_endpoint(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/db.sqlite"))
    with TestClient(app) as client:
        assert client.post("/slack/events", content=b"{}").status_code == 404
        assert client.get("/healthz").status_code == 200


def test_an_app_level_token_starts_socket_mode_and_stops_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Socket Mode needs Slack's websocket, which tests cannot reach: this checks the
    handler is created with the app token, connected on start-up and closed on exit."""
    seen: list[str] = []

    async def connect(self: AsyncSocketModeHandler) -> None:
        seen.append(f"connect {self.app_token}")

    async def close(self: AsyncSocketModeHandler) -> None:
        seen.append("close")

    monkeypatch.setattr(AsyncSocketModeHandler, "connect_async", connect)
    monkeypatch.setattr(AsyncSocketModeHandler, "close_async", close)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/db.sqlite",
        slack_bot_token="xoxb-1-2-3",
        slack_signing_secret="secret",
        slack_app_token="xapp-1-A1-2-abc",
    )
    with TestClient(create_app(settings)) as client:
        assert seen == ["connect xapp-1-A1-2-abc"]
        assert client.get("/healthz").status_code == 200
    assert seen == ["connect xapp-1-A1-2-abc", "close"]
