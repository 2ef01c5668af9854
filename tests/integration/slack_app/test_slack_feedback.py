"""Surface: 👍/👎 buttons, :+1:/:-1: reactions, the 👎 modal and "Talk to a human"."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bot.slack.blocks import (
    ACTION_HANDOFF,
    ACTION_HELPFUL,
    ACTION_NOT_HELPFUL,
    FEEDBACK_MODAL,
    feedback_modal,
)
from supportbot.models import Rating
from tests.support.slack_fixtures import BotFactory, exchanges, feedback
from tests.support.slack_harness import (
    SIGNING_SECRET,
    SlackBotUnderTest,
    block_action,
    mention_event,
    new_ts,
)

LEAD = "U0LEAD"


@pytest.fixture
def answered(make_bot: BotFactory) -> Iterator[tuple[SlackBotUnderTest, int, dict]]:
    """A bot that has answered one mention: (bot, exchange id, the question event)."""
    with make_bot(slack_lead_user_ids=[LEAD], slack_escalation_channel="C0ESCALATE") as bot:
        event = mention_event("How do I factory reset the Nimbus Hub?")
        bot.event(event)
        bot.fake.wait_for(lambda: exchanges(bot) and exchanges(bot)[0].reply_ts, what="answer")
        yield bot, exchanges(bot)[0].id, event


def _answer_message(bot: SlackBotUnderTest, event: dict) -> dict:
    return {"type": "message", "ts": exchanges(bot)[0].reply_ts, "thread_ts": event["ts"]}


def test_helpful_button_stores_a_thumbs_up_and_thanks_privately(answered) -> None:
    bot, exchange_id, event = answered
    response = bot.interaction(
        block_action(ACTION_HELPFUL, str(exchange_id), message=_answer_message(bot, event))
    )
    assert response.status_code == 200
    bot.fake.wait_for(lambda: feedback(bot), what="feedback stored")
    [row] = feedback(bot)
    assert (row.exchange_id, row.user_id, row.rating) == (exchange_id, "U0ASKER", Rating.UP)
    [thanks] = bot.fake.wait_for(lambda: bot.fake.called("chat.postEphemeral"), what="thanks")
    assert thanks["user"] == "U0ASKER"
    assert thanks["thread_ts"] == event["ts"]


def test_changing_your_mind_replaces_your_rating(answered) -> None:
    bot, exchange_id, event = answered
    message = _answer_message(bot, event)
    bot.interaction(block_action(ACTION_HELPFUL, str(exchange_id), message=message))
    bot.fake.wait_for(lambda: feedback(bot), what="first rating")
    bot.interaction(block_action(ACTION_NOT_HELPFUL, str(exchange_id), message=message))
    bot.fake.wait_for(lambda: feedback(bot)[0].rating == Rating.DOWN, what="rating replaced")
    assert len(feedback(bot)) == 1


def test_not_helpful_opens_the_modal_and_the_submission_is_stored(answered) -> None:
    bot, exchange_id, event = answered
    bot.interaction(
        block_action(ACTION_NOT_HELPFUL, str(exchange_id), message=_answer_message(bot, event))
    )
    [opened] = bot.fake.wait_for(lambda: bot.fake.called("views.open"), what="the modal")
    view = opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])
    assert opened["trigger_id"] == "1234567890.0987654321.abcdef"
    assert view["callback_id"] == FEEDBACK_MODAL
    bot.fake.wait_for(lambda: feedback(bot), what="the 👎 counts before the modal is sent")
    assert feedback(bot)[0].rating == Rating.DOWN

    bot.interaction(_submission(view, "outdated", "The button moved.", None, user_id="U0ASKER"))
    bot.fake.wait_for(lambda: feedback(bot)[0].reason, what="the reason")
    [row] = feedback(bot)
    assert row.reason == "outdated: The button moved."
    assert row.correction is None
    assert row.from_lead is False


def test_a_leads_correction_is_stored_as_a_gold_answer(answered) -> None:
    bot, exchange_id, _event = answered
    view = _modal_view(exchange_id)
    gold = "Hold Reset for 15 seconds on hubs made before 2024."
    bot.interaction(_submission(view, "wrong", None, gold, user_id=LEAD))
    bot.fake.wait_for(lambda: feedback(bot), what="the correction")
    [row] = feedback(bot)
    assert (row.user_id, row.rating, row.correction, row.from_lead) == (
        LEAD,
        Rating.DOWN,
        gold,
        True,
    )


def test_a_lead_from_the_configured_user_group_counts_as_a_lead(make_bot: BotFactory) -> None:
    with make_bot(slack_lead_usergroup="S0LEADS") as bot:
        bot.fake.usergroup_members = ["U0GROUPLEAD"]
        event = mention_event("How do I factory reset the Nimbus Hub?")
        bot.event(event)
        bot.fake.wait_for(lambda: exchanges(bot), what="answer")
        bot.interaction(
            _submission(
                _modal_view(exchanges(bot)[0].id), None, None, "Gold.", user_id="U0GROUPLEAD"
            )
        )
        bot.fake.wait_for(lambda: feedback(bot), what="the correction")
        assert feedback(bot)[0].from_lead is True


def test_reactions_on_an_answer_count_as_ratings_and_can_be_taken_back(answered) -> None:
    bot, exchange_id, _event = answered
    reply_ts = exchanges(bot)[0].reply_ts

    def reaction(kind: str, name: str, ts: str = reply_ts) -> dict:
        return {
            "type": kind,
            "user": "U0READER",
            "reaction": name,
            "item_user": "UBOT0001",
            "item": {"type": "message", "channel": "C0SUPPORT", "ts": ts},
            "event_ts": new_ts(),
        }

    bot.event(reaction("reaction_added", "+1::skin-tone-3"))
    bot.fake.wait_for(lambda: feedback(bot), what="reaction rating")
    [row] = feedback(bot)
    assert (row.exchange_id, row.user_id, row.rating) == (exchange_id, "U0READER", Rating.UP)

    bot.event(reaction("reaction_removed", "+1::skin-tone-3"))
    bot.fake.wait_for(lambda: not feedback(bot), what="rating withdrawn")

    bot.event(reaction("reaction_added", "-1", ts="1600000000.000001"))  # not an answer
    bot.event(reaction("reaction_added", "tada"))  # not a rating
    bot.handled()
    assert feedback(bot) == []


def test_talk_to_a_human_posts_to_the_escalation_channel_once(answered) -> None:
    bot, exchange_id, event = answered
    bot.interaction(
        block_action(ACTION_HANDOFF, str(exchange_id), message=_answer_message(bot, event))
    )
    posts = bot.fake.wait_for(
        lambda: [p for p in bot.fake.called("chat.postMessage") if p["channel"] == "C0ESCALATE"],
        what="the hand-off",
    )
    assert "<@U0ASKER> asked for a human" in posts[0]["text"]
    assert "factory reset" in posts[0]["text"]
    assert "Open the thread" in posts[0]["text"]
    told = bot.fake.wait_for(
        lambda: [
            p
            for p in bot.fake.called("chat.postMessage")
            if "support team to step in" in p.get("text", "")
        ],
        what="the asker told",
    )
    assert told[0]["thread_ts"] == event["ts"]
    assert exchanges(bot)[0].escalated

    again = block_action(ACTION_HANDOFF, str(exchange_id), message=_answer_message(bot, event))
    bot.interaction(again)  # clicked again
    bot.fake.wait_for(lambda: bot.fake.called("chat.postEphemeral"), what="already escalated")
    assert (
        len([p for p in bot.fake.called("chat.postMessage") if p["channel"] == "C0ESCALATE"]) == 1
    )


def test_without_an_escalation_channel_the_lead_group_is_pinged_in_the_thread(
    make_bot: BotFactory,
) -> None:
    with make_bot(slack_lead_usergroup="S0LEADS") as bot:
        event = mention_event("How do I factory reset the Nimbus Hub?")
        bot.event(event)
        bot.fake.wait_for(lambda: exchanges(bot) and exchanges(bot)[0].reply_ts, what="answer")
        message = _answer_message(bot, event)
        bot.interaction(block_action(ACTION_HANDOFF, str(exchanges(bot)[0].id), message=message))
        ping = bot.fake.wait_for(
            lambda: [
                p
                for p in bot.fake.called("chat.postMessage")
                if "<!subteam^S0LEADS>" in p.get("text", "")
            ],
            what="the ping",
        )
        assert ping[0]["thread_ts"] == event["ts"]


def test_feedback_for_an_unknown_exchange_is_ignored_without_errors(answered) -> None:
    bot, _exchange_id, _event = answered
    assert bot.interaction(block_action(ACTION_HELPFUL, "999999")).status_code == 200
    bot.handled()
    assert feedback(bot) == []


def _modal_view(exchange_id: int) -> dict:

    return feedback_modal(exchange_id, "C0SUPPORT", None, SIGNING_SECRET.encode())


def _submission(
    view: dict, reason: str | None, comment: str | None, correction: str | None, user_id: str
) -> dict:
    values = {
        "reason": {
            "value": {
                "type": "static_select",
                "selected_option": {"value": reason} if reason else None,
            }
        },
        "comment": {"value": {"type": "plain_text_input", "value": comment}},
        "correction": {"value": {"type": "plain_text_input", "value": correction}},
    }
    return {
        "type": "view_submission",
        "team": {"id": "T0001", "domain": "example"},
        "user": {"id": user_id, "username": "someone", "team_id": "T0001"},
        "api_app_id": "A0APP",
        "token": "legacy-verification-token",
        "trigger_id": "12345.98765.abcd2358fdea",
        "view": {**view, "id": "V0001", "state": {"values": values}, "hash": "156772938.1827394"},
        "response_urls": [],
    }
