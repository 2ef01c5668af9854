"""The Slack app served for real: `supportbot`'s FastAPI app under uvicorn on loopback,
talking to the fake Web API, receiving requests signed like Slack signs them.

Payload builders follow the shapes in Slack's documentation (Events API envelope,
block_actions, view_submission, slash commands).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier
from sqlalchemy.engine import Engine

from bot.conversation import Answerer
from bot.server import create_app
from bot.slack.activity import Activity
from supportbot.settings import Settings
from tests.support.app_server import serve
from tests.support.slack_fake import BOT_USER_ID, TEAM_ID, FakeSlack, fake_slack, unique_ts

SIGNING_SECRET = "test-signing-secret-8f2b"
BOT_TOKEN = "xoxb-0000-1111-test-token"


def new_ts() -> str:
    return unique_ts()


def message_event(text: str, **fields: Any) -> dict[str, Any]:
    """A `message` event as Slack sends it for a user's post in a channel."""
    event = {
        "type": "message",
        "channel": "C0SUPPORT",
        "user": "U0ASKER",
        "text": text,
        "ts": new_ts(),
        "team": TEAM_ID,
        "channel_type": "channel",
    }
    event.update(fields)
    event.setdefault("event_ts", event["ts"])
    return event


def mention_event(text: str, **fields: Any) -> dict[str, Any]:
    event = message_event(f"<@{BOT_USER_ID}> {text}", **fields)
    event["type"] = "app_mention"
    event.pop("channel_type", None)
    return event


def envelope(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "api_app_id": "A0APP",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-eyJldCI6ImFwcF9tZW50aW9uIn0",
    }


def block_action(
    action_id: str, value: str, user_id: str = "U0ASKER", message: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": "asker", "team_id": TEAM_ID},
        "api_app_id": "A0APP",
        "token": "legacy-verification-token",
        "container": {"type": "message", "channel_id": "C0SUPPORT", "is_ephemeral": False},
        "trigger_id": "1234567890.0987654321.abcdef",
        "team": {"id": TEAM_ID, "domain": "example"},
        "channel": {"id": "C0SUPPORT", "name": "support"},
        "message": message or {"type": "message", "ts": new_ts(), "thread_ts": new_ts()},
        "response_url": "https://hooks.slack.com/actions/T0001/1/abc",
        "actions": [
            {
                "action_id": action_id,
                "block_id": f"feedback:{value}",
                "value": value,
                "type": "button",
                "action_ts": str(time.time()),
            }
        ],
    }


def view_submission(
    view: dict[str, Any], values: dict[str, Any], user_id: str = "U0ASKER"
) -> dict[str, Any]:
    """A modal's submission: `values` maps block ids to their input's value."""
    state = {
        block: {"value": {"type": "plain_text_input", "value": value}}
        for block, value in values.items()
    }
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "example"},
        "user": {"id": user_id, "team_id": TEAM_ID},
        "api_app_id": "A0APP",
        "token": "legacy-verification-token",
        "trigger_id": "12345.98765.abcd2358fdea",
        "view": {**view, "id": "V0001", "state": {"values": state}},
    }


@dataclass
class SlackBotUnderTest:
    url: str
    fake: FakeSlack
    settings: Settings
    engine: Engine
    activity: Activity | None = None  # None: the bot runs in another process

    def post(
        self,
        body: str,
        content_type: str = "application/json",
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        timestamp = int(time.time()) if timestamp is None else timestamp
        if signature is None:
            signature = SignatureVerifier(SIGNING_SECRET).generate_signature(
                timestamp=str(timestamp), body=body
            )
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": signature,
            **(headers or {}),
        }
        return httpx.post(
            f"{self.url}/slack/events", content=body.encode(), headers=all_headers, timeout=10
        )

    def event(
        self, event: dict[str, Any], event_id: str | None = None, retry: int | None = None
    ) -> httpx.Response:
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        body = json.dumps(envelope(event, event_id))
        return self.post(body, headers=headers if retry else None)

    def interaction(self, payload: dict[str, Any]) -> httpx.Response:
        body = urlencode({"payload": json.dumps(payload)})
        return self.post(body, content_type="application/x-www-form-urlencoded")

    def command(
        self, text: str, user_id: str = "U0ASKER", channel_id: str = "C0SUPPORT"
    ) -> httpx.Response:
        form = {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "team_domain": "example",
            "channel_id": channel_id,
            "channel_name": "support",
            "user_id": user_id,
            "user_name": "someone",
            "command": "/supportbot",
            "text": text,
            "api_app_id": "A0APP",
            "is_enterprise_install": "false",
            "response_url": f"{self.fake.base_url}/respond/{uuid.uuid4().hex}",
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        }
        return self.post(urlencode(form), content_type="application/x-www-form-urlencoded")

    # --- what the bot did -------------------------------------------------------------

    def handled(self, timeout: float = 10.0) -> None:
        """Wait until the bot has finished with every request it was sent (answered,
        recorded or decided to do nothing): the positive signal a check that nothing
        happened needs, where a fixed sleep would let a slow bot pass."""
        if self.activity is None:
            raise AssertionError("the bot runs in another process: wait for what it does")
        if not self.activity.wait_idle(timeout):
            raise AssertionError(f"{self.activity.in_flight} Slack requests still in flight")

    def replies(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """Answer-bearing calls into one thread: posts and stream starts."""
        return [
            args
            for method in ("chat.postMessage", "chat.startStream")
            for args in self.fake.called(method)
            if args.get("channel") == channel and args.get("thread_ts") == thread_ts
        ]

    def wait_for_answer(self, channel: str, thread_ts: str, count: int = 1) -> list[dict[str, Any]]:
        return self.fake.wait_for(
            lambda: (r := self.replies(channel, thread_ts)) and len(r) >= count and r,
            what=f"an answer in {channel}/{thread_ts}",
        )


@contextmanager
def serve_app(
    settings: Settings, slack_api_url: str, answerer: Answerer | None = None
) -> Iterator[tuple[str, Settings, Engine, Activity]]:
    """The app under uvicorn on loopback, its Slack Web API at `slack_api_url`."""
    settings = Settings.model_validate(
        {
            **settings.model_dump(),
            "slack_api_url": slack_api_url,
            "slack_bot_token": BOT_TOKEN,
            "slack_signing_secret": SIGNING_SECRET,
        }
    )
    app = create_app(settings, answerer=answerer)
    with serve(app) as url:
        yield url, settings, app.state.engine, app.state.slack.activity


@contextmanager
def serve_slack_bot(
    settings: Settings, answerer: Answerer | None = None
) -> Iterator[SlackBotUnderTest]:
    with (
        fake_slack() as fake,
        serve_app(settings, f"{fake.base_url}/api/", answerer) as (
            url,
            settings,
            engine,
            activity,
        ),
    ):
        yield SlackBotUnderTest(url, fake, settings, engine, activity)
