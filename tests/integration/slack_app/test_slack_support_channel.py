"""Surface: messages in configured support channels, answered without a mention."""

from __future__ import annotations

import pytest

from tests.support.slack_fake import BOT_ID, BOT_USER_ID
from tests.support.slack_fixtures import BotFactory, exchanges
from tests.support.slack_harness import message_event

QUESTION = "How do I factory reset the Nimbus Hub?"


@pytest.fixture
def support(make_bot: BotFactory):
    with make_bot(slack_support_channels=["C0SUPPORT"]) as served:
        yield served


def test_a_real_question_in_a_support_channel_is_answered_in_its_thread(support) -> None:
    event = message_event(QUESTION)
    assert support.event(event).status_code == 200
    [reply] = support.wait_for_answer("C0SUPPORT", event["ts"])
    assert "paper clip" in reply["text"]


@pytest.mark.parametrize(
    "text",
    ["thanks!", "ok cool", "lol", "hi everyone", "Deploying the new build after lunch."],
)
def test_chit_chat_is_ignored(support, text: str) -> None:
    support.event(message_event(text))
    support.handled()
    assert support.fake.called("chat.postMessage") == []
    assert exchanges(support) == []


@pytest.mark.parametrize(
    "fields",
    [
        {"subtype": "message_changed", "message": {"text": QUESTION, "ts": "1.1"}},
        {"subtype": "channel_join", "text": "<@U0NEW> has joined the channel"},
        {"subtype": "bot_message", "bot_id": "B0OTHER", "user": None},
        {"bot_id": "B0OTHER"},  # another app posting as a user-less bot
        {"user": BOT_USER_ID, "bot_id": BOT_ID},  # our own message
        {"subtype": "message_deleted", "hidden": True},
    ],
)
def test_edits_joins_bots_and_our_own_messages_are_ignored(support, fields: dict) -> None:
    event = message_event(QUESTION)
    event.update(fields)
    assert support.event(event).status_code == 200
    support.handled()
    assert support.fake.called("chat.postMessage") == []
    assert exchanges(support) == []


def test_a_question_in_a_channel_without_auto_answer_waits_for_a_mention(make_bot) -> None:
    with make_bot() as bot:
        bot.event(message_event(QUESTION, channel="C0RANDOM"))
        bot.handled()
        assert bot.fake.called("chat.postMessage") == []


def test_a_message_that_mentions_the_bot_is_answered_once_via_app_mention(support) -> None:
    event = message_event(f"<@{BOT_USER_ID}> {QUESTION}")
    support.event(event)  # the `message` copy is skipped…
    mention = dict(event, type="app_mention")
    mention.pop("channel_type")
    support.event(mention)  # …and the app_mention copy answers
    support.wait_for_answer("C0SUPPORT", event["ts"])
    support.handled()
    assert len(exchanges(support)) == 1


def test_channel_settings_from_config_scope_the_search(make_bot) -> None:
    channel_settings = {"C0UPDATES": {"auto_answer": True, "kinds": ["update"]}}
    with make_bot(slack_channel_settings=channel_settings) as bot:
        event = message_event("What changed in the latest firmware release?", channel="C0UPDATES")
        bot.event(event)
        [reply] = bot.wait_for_answer("C0UPDATES", event["ts"])
        sources = str(reply["blocks"])
        assert "update, 20" in sources, "only dated updates are cited"
        assert "troubleshooting.html" not in sources
        [exchange] = exchanges(bot)
        assert exchange.scope == {"kinds": ["update"]}
        assert {s["kind"] for s in exchange.sources} == {"update"}
        assert "Answering for: kind: update" in sources
