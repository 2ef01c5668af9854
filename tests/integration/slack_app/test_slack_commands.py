"""Surfaces: `/supportbot` (per-channel settings only leads may change) and App Home."""

from __future__ import annotations

from supportbot.registry import active_model_id, register
from tests.support.slack_fixtures import BotFactory, exchanges
from tests.support.slack_harness import message_event, new_ts

LEAD = "U0LEAD"


def _responses(bot) -> list[str]:
    return [r["text"] for r in bot.fake.called("respond")]


def test_a_lead_turns_auto_answer_on_and_scopes_a_channel(make_bot: BotFactory) -> None:
    with make_bot(slack_lead_user_ids=[LEAD]) as bot:
        assert bot.command("auto on", user_id=LEAD, channel_id="C0NEW").status_code == 200
        bot.fake.wait_for(lambda: _responses(bot), what="confirmation")
        assert "Auto-answer: *on*" in _responses(bot)[-1]
        bot.command("kinds update", user_id=LEAD, channel_id="C0NEW")
        bot.fake.wait_for(lambda: len(_responses(bot)) == 2, what="second confirmation")
        assert "kind: update" in _responses(bot)[-1]

        event = message_event("What changed in the latest firmware release?", channel="C0NEW")
        bot.event(event)
        bot.wait_for_answer("C0NEW", event["ts"])
        assert exchanges(bot)[0].scope == {"kinds": ["update"]}

        bot.command("reset", user_id=LEAD, channel_id="C0NEW")
        bot.fake.wait_for(lambda: len(_responses(bot)) == 3, what="reset")
        assert "Auto-answer: *off" in _responses(bot)[-1]


def test_a_non_lead_is_refused_but_may_look(make_bot: BotFactory) -> None:
    with make_bot(slack_lead_user_ids=[LEAD], slack_support_channels=["C0SUPPORT"]) as bot:
        bot.command("auto off", user_id="U0SOMEONE")
        bot.fake.wait_for(lambda: _responses(bot), what="refusal")
        assert "Only support leads" in _responses(bot)[0]
        bot.command("show", user_id="U0SOMEONE")
        bot.fake.wait_for(lambda: len(_responses(bot)) == 2, what="settings shown")
        assert "Auto-answer: *on*" in _responses(bot)[1], "the refused change did not happen"


def test_bad_arguments_get_usage_help(make_bot: BotFactory) -> None:
    with make_bot(slack_lead_user_ids=[LEAD]) as bot:
        bot.command("auto maybe", user_id=LEAD)
        bot.command("frobnicate", user_id=LEAD)
        bot.command("", user_id=LEAD)
        bot.fake.wait_for(lambda: len(_responses(bot)) == 3, what="three answers")
        joined = "\n".join(_responses(bot))
        assert "/supportbot auto on" in joined
        assert "I don't know `frobnicate`" in joined


def test_opening_app_home_publishes_the_home_tab(bot) -> None:
    event = {"type": "app_home_opened", "user": "U0ASKER", "channel": "D0HOME", "tab": "home"}
    bot.event({**event, "event_ts": new_ts()})
    [published] = bot.fake.wait_for(lambda: bot.fake.called("views.publish"), what="App Home")
    assert published["user_id"] == "U0ASKER"
    assert "Talk to a human" in str(published["view"])


def test_leads_promote_and_roll_back_models_and_others_are_refused(make_bot: BotFactory) -> None:

    with make_bot(slack_lead_user_ids=[LEAD]) as bot:
        register(bot.engine, "support-v1", "local")
        bot.command("model promote support-v1", user_id="U0SOMEONE")
        bot.fake.wait_for(lambda: _responses(bot), what="refusal")
        assert "Only support leads" in _responses(bot)[0]
        assert active_model_id(bot.engine, "base") == "base"

        bot.command("model promote support-v1", user_id=LEAD)
        bot.fake.wait_for(lambda: len(_responses(bot)) == 2, what="promotion")
        assert "*support-v1* is live" in _responses(bot)[1]
        assert active_model_id(bot.engine, "base") == "support-v1"

        bot.command("model status", user_id="U0SOMEONE")
        bot.fake.wait_for(lambda: len(_responses(bot)) == 3, what="status")
        assert "Live model: *support-v1*" in _responses(bot)[2]

        bot.command("model rollback", user_id=LEAD)
        bot.fake.wait_for(lambda: len(_responses(bot)) == 4, what="rollback")
        assert "the base model* is live again" in _responses(bot)[3]
        assert active_model_id(bot.engine, "base") == "base"
