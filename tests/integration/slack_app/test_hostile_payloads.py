"""The regression corpus: malformed and hostile requests, replayed signed and unsigned.

Every case asserts the status code, that no response is a 5xx or carries a traceback,
and that nothing was stored: no question, exchange or feedback from a request that
was unsigned or refused, no rating from a forged click.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from urllib.parse import quote, urlencode

import httpx
import pytest
from sqlmodel import Session, select

from bot.slack.blocks import ACTION_HELPFUL, FEEDBACK_MODAL, feedback_modal
from supportbot.models import QuestionRecord
from tests.support.slack_fixtures import BotFactory, exchanges, feedback
from tests.support.slack_harness import (
    SIGNING_SECRET,
    SlackBotUnderTest,
    block_action,
    envelope,
    mention_event,
    view_submission,
)

MARKER = "HOSTILE-BODY-7f3a"  # must never reach a log line
NESTED = "[" * 100_000 + "]" * 100_000


def _form(payload: dict) -> str:
    return urlencode({"payload": json.dumps(payload)})


def _view_submission(view: dict, comment: str | None = None) -> dict:
    return view_submission(view, {"comment": comment})


# (name, body, content type, expected status when signed)
SIGNED_CASES = [
    ("bad json", "{not json" + MARKER, "application/json", 400),
    ("json array", "[]", "application/json", 400),
    ("deep nesting", NESTED, "application/json", 400),
    (
        "deep nesting in a form",
        "payload=" + quote(NESTED),
        "application/x-www-form-urlencoded",
        400,
    ),
    ("bad utf-8", b"\xff\xfe{}".decode("latin-1"), "application/json", 400),
    ("event without fields", json.dumps({"type": "event_callback"}), "application/json", 200),
    (
        "unknown event",
        json.dumps(envelope({"type": "some_future_event", "x": MARKER})),
        "application/json",
        200,
    ),
    (
        "event with wrong types",
        json.dumps(envelope({"type": "app_mention", "channel": 42, "ts": None, "text": []})),
        "application/json",
        400,
    ),
    ("broken form", "payload=%7Bbroken", "application/x-www-form-urlencoded", 400),
    (
        "arabic-indic digits as an id",
        _form(block_action(ACTION_HELPFUL, "\u0663")),
        "application/x-www-form-urlencoded",
        200,
    ),
    (
        "full-width digits as an id",
        _form(block_action(ACTION_HELPFUL, "\uff11")),
        "application/x-www-form-urlencoded",
        200,
    ),
    (
        "an id past 2^63",
        _form(block_action(ACTION_HELPFUL, str(2**63))),
        "application/x-www-form-urlencoded",
        200,
    ),
    (
        "actions of the wrong shape",
        _form({"type": "block_actions", "actions": "x", "user": {"id": "U1"}}),
        "application/x-www-form-urlencoded",
        400,
    ),
    (
        "an unknown view",
        _form(_view_submission({"callback_id": "nobody_opened_this"})),
        "application/x-www-form-urlencoded",
        400,
    ),
    (
        "a feedback form the bot never opened",
        _form(
            _view_submission(
                {"callback_id": FEEDBACK_MODAL, "private_metadata": '{"exchange_id": 1}'}, "x"
            )
        ),
        "application/x-www-form-urlencoded",
        400,
    ),
    (
        "a modal with a state of the wrong shape",
        _form({"type": "view_submission", "view": {"callback_id": FEEDBACK_MODAL, "state": []}}),
        "application/x-www-form-urlencoded",
        400,
    ),
    (
        "a command without a response_url",
        "command=%2Fsupportbot&text=help&user_id=U1&channel_id=C1",
        "application/x-www-form-urlencoded",
        400,
    ),
    (
        "a click with a channel of the wrong shape",
        _form(
            {
                "type": "block_actions",
                "actions": [{"action_id": "scope_change", "value": "1"}],
                "user": {"id": "U1"},
                "channel": "C1",
            }
        ),
        "application/x-www-form-urlencoded",
        400,
    ),
    ("empty", "", "application/json", 404),
]


@pytest.fixture
def hostile_bot(make_bot: BotFactory) -> Iterator[SlackBotUnderTest]:
    with make_bot(slack_escalation_channel="C0ESCALATE") as served:
        yield served


def _stored_nothing(bot: SlackBotUnderTest) -> None:
    assert exchanges(bot) == []
    assert feedback(bot) == []
    with Session(bot.engine) as session:
        assert session.exec(select(QuestionRecord)).all() == []


def _clean(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text[:300]
    assert "Traceback" not in response.text


def _logged(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> str:
    """Everything logged: the standard library's records and structlog's output."""
    out, err = capfd.readouterr()
    return caplog.text + out + err


def test_the_corpus_signed_and_unsigned(
    hostile_bot: SlackBotUnderTest,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    for name, body, content_type, signed_status in SIGNED_CASES:
        unsigned = hostile_bot.post(body, content_type=content_type, signature="v0=" + "0" * 64)
        _clean(unsigned)
        assert unsigned.status_code == 401, name
        signed = hostile_bot.post(body, content_type=content_type)
        _clean(signed)
        assert signed.status_code == signed_status, (name, signed.text[:200])
    _stored_nothing(hostile_bot)
    assert MARKER not in _logged(caplog, capfd), "a request body reached the log"


@pytest.mark.parametrize(
    "timestamp", ["abc", "\u0661\u0667\u0660\u0660", "\uff11\uff17\uff10\uff10", "1e9", "-1", ""]
)
def test_a_malformed_timestamp_is_refused_not_a_server_error(
    hostile_bot: SlackBotUnderTest, timestamp: str
) -> None:
    response = httpx.post(
        f"{hostile_bot.url}/slack/events",
        content=json.dumps(envelope(mention_event("How do I reset it?"))).encode(),
        headers={"X-Slack-Request-Timestamp": timestamp.encode(), "X-Slack-Signature": "v0=00"},
        timeout=10,
    )
    _clean(response)
    assert response.status_code == 401


def test_a_huge_body_is_refused_before_it_is_read(
    hostile_bot: SlackBotUnderTest,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    huge = (MARKER * (3 * 1024 * 1024 // len(MARKER))).encode()
    declared = httpx.post(f"{hostile_bot.url}/slack/events", content=huge, timeout=30)
    assert declared.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while reading
        for _ in range(48):
            yield huge[: 64 * 1024]

    streamed = httpx.post(f"{hostile_bot.url}/slack/events", content=chunks(), timeout=30)
    assert streamed.status_code == 413
    signed = hostile_bot.post(huge.decode())  # a valid signature does not lift the limit
    assert signed.status_code == 413
    _stored_nothing(hostile_bot)
    logged = _logged(caplog, capfd)
    assert MARKER not in logged
    assert "slack.request_refused" in logged, "refusals are logged (size and reason)"
    assert "body_too_large" in logged


def test_a_forged_click_on_another_channels_answer_does_nothing(
    make_bot: BotFactory,
) -> None:
    with make_bot() as bot:
        event = mention_event("How do I factory reset the Nimbus Hub?")
        bot.event(event)
        bot.fake.wait_for(lambda: exchanges(bot) and exchanges(bot)[0].reply_ts, what="answer")
        exchange = exchanges(bot)[0]
        forged = block_action(ACTION_HELPFUL, str(exchange.id))
        forged["channel"] = {"id": "C0ELSEWHERE", "name": "elsewhere"}
        forged["message"] = {"type": "message", "ts": exchange.reply_ts, "thread_ts": event["ts"]}
        assert bot.interaction(forged).status_code == 200
        other_thread = block_action(ACTION_HELPFUL, str(exchange.id))  # right channel
        assert bot.interaction(other_thread).status_code == 200
        genuine = block_action(
            ACTION_HELPFUL,
            str(exchange.id),
            user_id="U0GENUINE",
            message={"type": "message", "ts": exchange.reply_ts, "thread_ts": event["ts"]},
        )
        assert bot.interaction(genuine).status_code == 200
        bot.fake.wait_for(lambda: feedback(bot), what="the genuine rating")
        assert [f.user_id for f in feedback(bot)] == ["U0GENUINE"]


def test_feedback_text_over_the_limit_is_sent_back_not_stored(make_bot: BotFactory) -> None:
    with make_bot() as bot:
        event = mention_event("How do I factory reset the Nimbus Hub?")
        bot.event(event)
        bot.fake.wait_for(lambda: exchanges(bot), what="answer")
        view = feedback_modal(exchanges(bot)[0].id, "C0SUPPORT", None, SIGNING_SECRET.encode())
        response = bot.interaction(_view_submission(view, "x" * 3001))
        assert response.status_code == 200
        assert response.json()["response_action"] == "errors"
        assert feedback(bot) == []


def test_the_signing_window_uses_the_request_time(hostile_bot: SlackBotUnderTest) -> None:
    future = hostile_bot.post(
        json.dumps({"type": "url_verification", "challenge": "x"}),
        timestamp=int(time.time()) + 3600,
    )
    assert future.status_code == 401
