"""Surface: Slack Connect channels, shared with other organisations.

Each channel chooses what happens to questions from people of another organisation:
answer (the default), hand them to a person, or leave them alone. The asker's team is
recorded on the exchange either way.
"""

from __future__ import annotations

from bot.slack.answers import HANDED_TEXT
from tests.support.slack_fixtures import BotFactory, exchanges
from tests.support.slack_harness import mention_event

OTHER_ORG = "T0OTHERORG"


def test_by_default_guests_are_answered_and_their_team_recorded(make_bot: BotFactory) -> None:
    with make_bot() as bot:
        event = mention_event("How do I factory reset the Nimbus Hub?", user_team=OTHER_ORG)
        bot.event(event)
        bot.wait_for_answer(event["channel"], event["ts"])
        bot.fake.wait_for(lambda: exchanges(bot), what="the exchange")
        assert exchanges(bot)[0].team_id == OTHER_ORG


def test_a_channel_can_hand_guests_to_a_person(make_bot: BotFactory) -> None:
    channels = {"C0SHARED": {"external_users": "hand_off"}}
    with make_bot(slack_channel_settings=channels, slack_escalation_channel="C0ESCALATE") as bot:
        guest = mention_event("How do I reset it?", channel="C0SHARED", user_team=OTHER_ORG)
        bot.event(guest)
        bot.fake.wait_for(
            lambda: [
                p for p in bot.fake.called("chat.postMessage") if p["channel"] == "C0ESCALATE"
            ],
            what="the hand-off",
        )
        [told] = bot.replies("C0SHARED", guest["ts"])[:1]
        assert HANDED_TEXT in str(told)
        [exchange] = exchanges(bot)
        assert exchange.escalated
        assert exchange.team_id == OTHER_ORG

        member = mention_event("How do I factory reset the Nimbus Hub?", channel="C0SHARED")
        bot.event(member)  # the home organisation's own people are answered as usual
        bot.fake.wait_for(lambda: len(exchanges(bot)) == 2, what="the member's answer")
        assert not exchanges(bot)[1].escalated


def test_a_channel_can_leave_guests_alone(make_bot: BotFactory) -> None:
    channels = {"C0SHARED": {"external_users": "ignore"}}
    with make_bot(slack_channel_settings=channels) as bot:
        guest = mention_event("How do I reset it?", channel="C0SHARED", user_team=OTHER_ORG)
        bot.event(guest)
        member = mention_event("How do I factory reset the Nimbus Hub?", channel="C0SHARED")
        bot.event(member)
        bot.wait_for_answer("C0SHARED", member["ts"])
        bot.handled()
        assert bot.replies("C0SHARED", guest["ts"]) == []
        assert [e.message_ts for e in exchanges(bot)] == [member["ts"]]
