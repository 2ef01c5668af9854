"""Surface: direct messages, through Slack's assistant threads and plain DMs."""

from __future__ import annotations

from bot.slack.app import GREETING, SUGGESTED_PROMPTS
from tests.support.slack_fixtures import exchanges
from tests.support.slack_harness import SlackBotUnderTest, message_event, new_ts

DM = "D0DIRECT"


def test_a_new_assistant_thread_is_greeted_with_suggested_prompts(bot: SlackBotUnderTest) -> None:
    thread_ts = new_ts()
    event = {
        "type": "assistant_thread_started",
        "assistant_thread": {
            "user_id": "U0ASKER",
            "context": {"channel_id": "C0SUPPORT", "team_id": "T0001", "enterprise_id": None},
            "channel_id": DM,
            "thread_ts": thread_ts,
        },
        "event_ts": new_ts(),
    }
    assert bot.event(event).status_code == 200
    [prompts] = bot.fake.wait_for(
        lambda: bot.fake.called("assistant.threads.setSuggestedPrompts"), what="prompts"
    )
    assert prompts["channel_id"] == DM
    assert prompts["thread_ts"] == thread_ts
    assert [p["message"] for p in prompts["prompts"]] == [p["message"] for p in SUGGESTED_PROMPTS]
    [greeting] = bot.fake.called("chat.postMessage")
    assert greeting["text"] == GREETING


def test_a_question_in_an_assistant_thread_shows_status_sets_a_title_and_is_answered(
    bot: SlackBotUnderTest,
) -> None:
    thread_ts = new_ts()
    event = message_event(
        "How do I factory reset the Nimbus Hub?",
        channel=DM,
        channel_type="im",
        thread_ts=thread_ts,
    )
    bot.event(event)
    [reply] = bot.wait_for_answer(DM, thread_ts)
    assert "paper clip" in reply["text"]
    [status] = bot.fake.called("assistant.threads.setStatus")
    assert status["status"] == "is thinking…"
    [title] = bot.fake.called("assistant.threads.setTitle")
    assert title["title"] == "How do I factory reset the Nimbus Hub?"
    assert bot.fake.called("reactions.add") == [], "the status replaces the 👀 reaction"
    [exchange] = exchanges(bot)
    assert exchange.channel_id == DM
    assert exchange.conversation_id == f"slack:{DM}:{thread_ts}"


def test_a_top_level_dm_is_answered_in_its_thread(bot: SlackBotUnderTest) -> None:
    event = message_event("How do I factory reset the Nimbus Hub?", channel=DM, channel_type="im")
    bot.event(event)
    [reply] = bot.wait_for_answer(DM, event["ts"])
    assert "paper clip" in reply["text"]
