"""`supportbot serve` over real HTTP, and the app's operational endpoints."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.server import create_app
from supportbot.settings import Settings

SLACK_TOKEN = "xoxb-5555555555-6666666666-ZxCvBnMaSdFg"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served(isolated_settings: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`supportbot serve` on embedded defaults, with a Slack token in its environment."""
    port = free_port()
    env = {
        **os.environ,
        "SUPPORTBOT_PORT": str(port),
        "SUPPORTBOT_SLACK_BOT_TOKEN": SLACK_TOKEN,
        "SUPPORTBOT_LOG_FORMAT": "json",
        "SUPPORTBOT_LOG_LEVEL": "DEBUG",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "supportbot", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"server did not start:\n{process.communicate()[0]}")
        time.sleep(0.2)
    yield base, process
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=20)


def test_serve_starts_on_embedded_defaults_and_is_ready(
    served: tuple[str, subprocess.Popen[str]], isolated_settings: Path
) -> None:
    base, _ = served
    health = httpx.get(f"{base}/healthz")
    assert health.json()["status"] == "ok"
    ready = httpx.get(f"{base}/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] == "ok"
    assert ready.json()["status"] == "ok"
    # auto-migrate created the SQLite database in the default data directory
    assert (isolated_settings / "data" / "supportbot.db").is_file()


def test_requests_get_ids_and_logs_never_hold_secrets(
    served: tuple[str, subprocess.Popen[str]],
) -> None:
    base, process = served
    echoed = httpx.get(f"{base}/healthz", headers={"X-Request-ID": "trace-abc-123"})
    assert echoed.headers["X-Request-ID"] == "trace-abc-123"
    generated = httpx.get(f"{base}/healthz")
    assert len(generated.headers["X-Request-ID"]) == 32
    # A token pasted into a URL must not reach the logs either.
    httpx.get(f"{base}/{SLACK_TOKEN}")
    process.terminate()
    output = process.communicate(timeout=20)[0]
    assert '"request_id": "trace-abc-123"' in output
    assert SLACK_TOKEN not in output
    assert "**********" in output


def test_readiness_fails_while_migrations_are_pending(isolated_settings: Path) -> None:
    settings = Settings(auto_migrate=False)
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert "needs" in response.json()["checks"]["database"]
    assert response.json()["status"] == "down"


def test_readiness_fails_when_the_database_is_unreachable() -> None:
    settings = Settings(
        auto_migrate=False, database_url="postgresql+psycopg://bot:pw@127.0.0.1:1/none"
    )
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "down"
    assert response.json()["checks"]["database"].startswith("unreachable")


def test_unexpected_errors_return_json_without_a_traceback(isolated_settings: Path) -> None:
    app = create_app(Settings())

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"
    assert "secret internals" not in response.text
