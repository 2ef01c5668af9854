"""Surface: product scoping in Slack: from the channel, the thread, the question text,
and a one-click clarifying question when two products fit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.slack.blocks import ACTION_CHANGE_PRODUCT
from supportbot.settings import Settings
from tests.support.slack_fixtures import exchanges
from tests.support.slack_harness import block_action, message_event, serve_slack_bot


@pytest.fixture
def make(two_products_knowledge: Path, tmp_path: Path):
    def served(**overrides):
        values = {
            "data_dir": two_products_knowledge,
            "database_url": f"sqlite:///{tmp_path}/bot.db",
            "slack_support_channels": ["C0SUPPORT"],
        }
        return serve_slack_bot(Settings(**{**values, **overrides}))

    return served


def _buttons(message: dict) -> list[dict]:
    return [e for b in message.get("blocks") or [] if b["type"] == "actions" for e in b["elements"]]


def _text(bot, channel: str, thread: str) -> str:
    texts = [json.dumps(r.get("blocks") or r.get("text")) for r in bot.replies(channel, thread)]
    texts += [json.dumps(u.get("blocks") or u.get("text")) for u in bot.fake.called("chat.update")]
    return " ".join(texts)


def test_a_product_named_in_the_question_scopes_the_answer(make) -> None:
    with make() as bot:
        event = message_event("How do I factory reset my NC-10 camera?")
        bot.event(event)
        bot.wait_for_answer("C0SUPPORT", event["ts"])
        bot.fake.wait_for(lambda: exchanges(bot), what="the exchange")
        [exchange] = exchanges(bot)
        assert exchange.scope == {"products": ["Nimbus Cam"]}
        assert {s["product"] for s in exchange.sources} == {"Nimbus Cam"}
        final = bot.fake.wait_for(lambda: _text(bot, "C0SUPPORT", event["ts"]).count("Answering"))
        assert final
        assert "Answering for: Nimbus Cam" in _text(bot, "C0SUPPORT", event["ts"])


def test_two_products_get_a_clarifying_question_and_one_click_answers(make) -> None:
    with make() as bot:
        event = message_event("Can the Nimbus Cam be paired with the Nimbus Hub?")
        bot.event(event)
        [picker] = bot.wait_for_answer("C0SUPPORT", event["ts"])
        assert picker["text"].startswith("Which product is this about?")
        labels = [b["text"]["text"] for b in _buttons(picker)]
        assert labels == ["Nimbus Cam", "Nimbus Hub", "All products"]
        bot.handled()
        assert exchanges(bot) == [], "nothing is answered before the asker chooses"

        cam = _buttons(picker)[0]
        message = {"type": "message", "ts": "1700000100.000100", "thread_ts": event["ts"]}
        action = block_action(cam["action_id"], cam["value"], message=message)
        action["actions"][0]["block_id"] = "scope_picker:0"
        assert bot.interaction(action).status_code == 200
        bot.fake.wait_for(lambda: exchanges(bot), what="the chosen answer")
        bot.interaction(action)  # a double click answers once
        bot.handled()
        [exchange] = exchanges(bot)
        assert exchange.scope == {"products": ["Nimbus Cam"]}
        assert exchange.question == "Can the Nimbus Cam be paired with the Nimbus Hub?"
        updates = [u for u in bot.fake.called("chat.update") if u.get("ts") == message["ts"]]
        assert updates, "the picker is replaced by the choice"
        assert all("Answering for: Nimbus Cam" in u["text"] for u in updates)


def test_the_channels_products_win_over_detection(make) -> None:
    channel_settings = {"C0SUPPORT": {"products": ["Nimbus Hub"]}}
    with make(slack_channel_settings=channel_settings) as bot:
        event = message_event("How do I reset the Nimbus Cam?")
        bot.event(event)
        bot.wait_for_answer("C0SUPPORT", event["ts"])
        bot.fake.wait_for(lambda: exchanges(bot), what="the exchange")
        assert exchanges(bot)[0].scope == {"products": ["Nimbus Hub"]}


def test_a_follow_up_keeps_the_threads_product_and_change_offers_the_others(make) -> None:
    with make() as bot:
        event = message_event("How do I factory reset the camera?")
        bot.event(event)
        bot.fake.wait_for(lambda: exchanges(bot), what="the first answer")
        follow_up = message_event("And how long does it take?", thread_ts=event["ts"])
        bot.event(follow_up)
        bot.fake.wait_for(lambda: len(exchanges(bot)) == 2, what="the follow-up")
        assert exchanges(bot)[1].scope == {"products": ["Nimbus Cam"]}

        first = exchanges(bot)[0]
        message = {"type": "message", "ts": "1700000200.000200", "thread_ts": event["ts"]}
        bot.interaction(block_action(ACTION_CHANGE_PRODUCT, str(first.id), message=message))
        offer = bot.fake.wait_for(
            lambda: [
                p
                for p in bot.fake.called("chat.postMessage")
                if p.get("text") == "Which product should I answer for?"
            ],
            what="the product picker",
        )
        labels = [b["text"]["text"] for b in _buttons(offer[0])]
        assert labels == ["Nimbus Hub", "All products"]
