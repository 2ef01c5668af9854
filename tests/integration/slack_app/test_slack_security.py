"""Requests Slack did not sign, and payloads we did not expect."""

from __future__ import annotations

import json
import time
from urllib.parse import quote

import httpx
import pytest

from tests.support.slack_fixtures import exchanges
from tests.support.slack_harness import SlackBotUnderTest, envelope, mention_event


def test_a_forged_signature_is_rejected(bot: SlackBotUnderTest) -> None:
    body = json.dumps(envelope(mention_event("How do I reset it?")))
    response = bot.post(body, signature="v0=" + "0" * 64)
    assert response.status_code == 401
    bot.handled()
    assert bot.fake.called("chat.postMessage") == []


def test_a_stale_request_outside_the_five_minute_window_is_rejected(
    bot: SlackBotUnderTest,
) -> None:
    body = json.dumps(envelope(mention_event("How do I reset it?")))
    response = bot.post(body, timestamp=int(time.time()) - 6 * 60)  # correctly signed, old
    assert response.status_code == 401


def test_missing_signature_headers_are_rejected(bot: SlackBotUnderTest) -> None:

    response = httpx.post(f"{bot.url}/slack/events", content=b"{}", timeout=5)
    assert response.status_code == 401


def test_url_verification_is_answered(bot: SlackBotUnderTest) -> None:
    body = json.dumps(
        {
            "token": "t",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
    )
    response = bot.post(body)
    assert response.status_code == 200
    assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in response.text


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ("[]", "application/json"),
        (json.dumps({"type": "event_callback"}), "application/json"),
        (
            json.dumps({"type": "event_callback", "event": {"type": "app_mention"}}),
            "application/json",
        ),
        (
            json.dumps(envelope({"type": "app_mention", "channel": 42, "ts": None})),
            "application/json",
        ),
        (json.dumps(envelope({"type": "message", "channel": "C1"})), "application/json"),
        (json.dumps(envelope({"type": "some_future_event", "x": 1})), "application/json"),
        ("payload=%7Bbroken", "application/x-www-form-urlencoded"),
        (
            "payload="
            + quote(
                json.dumps(
                    {
                        "type": "block_actions",
                        "actions": [{"action_id": "feedback_up", "value": "not-a-number"}],
                        "user": {"id": "U1"},
                    }
                )
            ),
            "application/x-www-form-urlencoded",
        ),
        (
            "payload="
            + quote(
                json.dumps(
                    {
                        "type": "view_submission",
                        "view": {"callback_id": "feedback_modal", "private_metadata": "{oops"},
                        "user": {"id": "U1"},
                    }
                )
            ),
            "application/x-www-form-urlencoded",
        ),
        ("", "application/json"),
    ],
)
def test_malformed_and_unexpected_payloads_never_cause_a_server_error(
    bot: SlackBotUnderTest, body: str, content_type: str
) -> None:
    response = bot.post(body, content_type=content_type)
    assert response.status_code < 500
    bot.handled()
    assert exchanges(bot) == []
    assert bot.url
    assert bot.post(json.dumps({"type": "url_verification", "challenge": "ok"})).status_code == 200
