"""Delivery: fast acks and exactly one answer per question, whatever Slack re-sends."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import sqlalchemy as sa

from bot.slack import dedupe
from supportbot import db
from supportbot.models import SlackEvent, utcnow
from supportbot.settings import Settings
from tests.support.served_process import slow_answerer
from tests.support.slack_fixtures import BotFactory, exchanges
from tests.support.slack_harness import (
    SlackBotUnderTest,
    envelope,
    mention_event,
    message_event,
    serve_slack_bot,
)


def test_the_same_event_sent_four_times_at_once_is_answered_once(bot: SlackBotUnderTest) -> None:
    event = mention_event("How do I factory reset the Nimbus Hub?")
    body = json.dumps(envelope(event, event_id="Ev0DUPLICATE"))
    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(lambda _i: bot.post(body).status_code, range(4)))
    assert statuses == [200, 200, 200, 200]
    bot.wait_for_answer(event["channel"], event["ts"])
    bot.handled()
    assert len(bot.replies(event["channel"], event["ts"])) == 1
    assert len(exchanges(bot)) == 1


def test_slack_retries_are_acked_and_not_answered_again(bot: SlackBotUnderTest) -> None:
    event = mention_event("How do I factory reset the Nimbus Hub?")
    assert bot.event(event, event_id="Ev0RETRIED").status_code == 200
    bot.wait_for_answer(event["channel"], event["ts"])
    for retry in (1, 2, 3):
        assert bot.event(event, event_id="Ev0RETRIED", retry=retry).status_code == 200
    bot.handled()
    assert len(bot.replies(event["channel"], event["ts"])) == 1


def test_deduplication_holds_across_a_restart(make_bot: BotFactory) -> None:
    event = mention_event("How do I factory reset the Nimbus Hub?")
    with make_bot() as first:
        first.event(event, event_id="Ev0RESTART")
        first.wait_for_answer(event["channel"], event["ts"])
    with make_bot() as restarted:  # same database, a new process' worth of state
        restarted.event(event, event_id="Ev0RESTART", retry=1)
        restarted.handled()
        assert restarted.fake.called("chat.postMessage") == []
        assert len(exchanges(restarted)) == 1


def test_two_different_questions_both_get_answers(make_bot: BotFactory) -> None:
    with make_bot(slack_support_channels=["C0SUPPORT"]) as bot:
        one = message_event("How do I factory reset the Nimbus Hub?")
        two = message_event("How do I update the firmware?")
        bot.event(one)
        bot.event(two)
        bot.wait_for_answer("C0SUPPORT", one["ts"])
        bot.wait_for_answer("C0SUPPORT", two["ts"])


def test_old_claims_are_pruned_and_recent_ones_kept(engine) -> None:

    db.upgrade(engine)
    assert dedupe.claim(engine, ["Ev0OLD", "Ev0NEW"])
    with engine.begin() as connection:
        connection.execute(
            sa.update(SlackEvent)
            .where(SlackEvent.event_id == "Ev0OLD")
            .values(received_at=utcnow() - timedelta(days=8))
        )
    assert dedupe.prune(engine) == 1
    assert not dedupe.claim(engine, ["Ev0NEW"]), "a recent claim still blocks a repeat"
    assert dedupe.claim(engine, ["Ev0OLD"])


def test_handled_waits_for_a_slow_answer_to_be_recorded(tmp_path) -> None:
    """The signal the "nothing happened" checks wait on: it holds until the listener is
    done, however slow the bot, so a slow bot cannot pass those checks by being late."""
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/bot.db")
    with serve_slack_bot(settings, answerer=slow_answerer(2.0)) as bot:
        event = mention_event("How do I factory reset the Nimbus Hub?")
        assert bot.event(event).status_code == 200
        assert bot.activity.in_flight == 1  # acked, still answering
        bot.handled()
        assert len(exchanges(bot)) == 1
        assert bot.replies(event["channel"], event["ts"])
