"""The web side of hostile input: headers, gates, strict values, and a hand-off that
reaches leads without Slack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlmodel import Session, select

from bot.server import create_app
from finetune_data.report import build_report, render
from supportbot.models import Exchange
from supportbot.settings import Settings
from tests.support.app_server import serve

RESET = "How do I factory reset the Nimbus Hub?"
KEY = "web-key-0123456789abcdef"
TOKEN = "review-token-0123456789"


@pytest.fixture
def served(sample_knowledge: Path, tmp_path: Path):
    def make(**overrides: Any):
        values: dict[str, Any] = {
            "data_dir": sample_knowledge,
            "database_url": f"sqlite:///{tmp_path}/web.db",
            "review_tokens": {"pat": TOKEN},
        }
        app = create_app(Settings(**{**values, **overrides}))
        return app, serve(app)

    return make


def test_every_response_has_security_headers_and_review_is_never_framed(served) -> None:
    _app, server = served()
    with server as url:
        for path in ("/", "/api/products", "/static/chat.js", "/healthz", "/nowhere"):
            response = httpx.get(f"{url}{path}", timeout=10)
            assert response.headers["X-Content-Type-Options"] == "nosniff", path
            assert "Referrer-Policy" in response.headers, path
            assert "Content-Security-Policy" in response.headers, path
        for path in ("/review", "/static/review.html"):
            response = httpx.get(f"{url}{path}", timeout=10)
            assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], path
            assert response.headers["X-Frame-Options"] == "DENY", path


def test_with_a_key_the_api_description_needs_it_too(served) -> None:
    _app, server = served(web_api_key=KEY)
    with server as url:
        for path in ("/docs", "/openapi.json"):
            assert httpx.get(f"{url}{path}", timeout=10).status_code == 401
            keyed = httpx.get(f"{url}{path}", headers={"X-API-Key": KEY}, timeout=10)
            assert keyed.status_code == 200


def test_short_keys_and_review_tokens_are_refused_at_start_up() -> None:
    with pytest.raises(ValidationError, match="at least 16"):
        Settings(web_api_key="short-key")
    with pytest.raises(ValidationError, match="too short: pat"):
        Settings(review_tokens={"pat": "tok-1", "sam": TOKEN})


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/chat", '{"message": "\\ud800 reset?"}'),
        ("/api/chat", '{"message": NaN}'),
        ("/api/feedback", '{"conversation_id": "web-' + "0" * 32 + '", "exchange_id": '
         + str(2**63) + ', "rating": "up"}'),
        ("/api/feedback", '{"conversation_id": "web-' + "0" * 32 + '", "exchange_id": NaN, '
         '"rating": "up"}'),
        ("/api/handoff", '{"conversation_id": "web-' + "0" * 32 + '", "contact": "\\udfff"}'),
        ("/api/handoff", '{"conversation_id": "web-' + "0" * 32 + '", "contact": "not-an-email"}'),
        ("/api/chat", "[" * 50_000 + "]" * 50_000),
    ],
)  # fmt: skip
def test_hostile_values_get_a_4xx_and_store_nothing(served, path: str, body: str) -> None:
    app, server = served()
    with server as url:
        response = httpx.post(
            f"{url}{path}",
            content=body.encode("utf-8", "surrogatepass"),
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        assert 400 <= response.status_code < 500, response.text[:200]
        assert "Traceback" not in response.text
    with Session(app.state.engine) as session:
        assert session.exec(select(Exchange)).all() == []


def test_review_refuses_big_bodies_before_the_token_and_throttles_wrong_tokens(served) -> None:
    _app, server = served()
    with server as url:
        big = httpx.post(
            f"{url}/api/review/decisions",
            content=json.dumps({"pair_ids": [1] * 40_000, "status": "approved"}),
            headers={"Content-Type": "application/json"},  # no token at all
            timeout=10,
        )
        assert big.status_code == 413
        wrong = {"Authorization": "Bearer not-the-token-at-all"}
        statuses = [
            httpx.get(f"{url}/api/review/whoami", headers=wrong, timeout=10).status_code
            for _ in range(12)
        ]
        assert statuses[:10] == [401] * 10
        assert statuses[10:] == [429, 429]
        right = {"Authorization": f"Bearer {TOKEN}"}
        assert httpx.get(f"{url}/api/review/whoami", headers=right, timeout=10).status_code == 429


def test_a_web_hand_off_without_slack_is_queued_where_leads_look(served) -> None:
    app, server = served()
    with server as url:
        answer = httpx.post(f"{url}/api/chat", json={"message": RESET}, timeout=30).json()
        asked = httpx.post(
            f"{url}/api/handoff",
            json={"conversation_id": answer["conversation_id"], "contact": "pat@example.com"},
            timeout=10,
        ).json()
        assert asked["status"] == "escalated"
        assert "pat@example.com" in asked["message"]
        assert "someone will follow up" not in asked["message"].lower()
        queue = httpx.get(
            f"{url}/api/review/handoffs", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
        ).json()
        assert [(q["question"], q["contact"]) for q in queue] == [(RESET, "pat@example.com")]
    report = build_report(app.state.engine, None)
    assert "1 from the web chat with an e-mail to reply to" in render(report)
