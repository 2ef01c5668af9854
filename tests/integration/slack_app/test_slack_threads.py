"""Surface: follow-ups in a thread the bot answered, with the thread as history."""

from __future__ import annotations

from tests.support.openai_fake import fake_openai
from tests.support.slack_fixtures import BotFactory, exchanges
from tests.support.slack_harness import message_event


def test_a_follow_up_in_the_bots_thread_is_answered_with_the_thread_as_history(
    make_bot: BotFactory,
) -> None:
    with fake_openai() as llm:
        llm.reply = lambda _r: "Hold Reset for 10 seconds [1]."
        with make_bot(
            slack_support_channels=["C0SUPPORT"], llm_base_url=llm.base_url, llm_max_retries=0
        ) as bot:
            first = message_event("How do I factory reset the Nimbus Hub?")
            bot.event(first)
            bot.fake.add_thread_message("C0SUPPORT", first["ts"], dict(first))
            bot.fake.wait_for(lambda: exchanges(bot) and exchanges(bot)[0].reply_ts, what="answer")
            asked_before = len(llm.requests)

            follow_up = message_event(
                "Does that also delete my paired sensors?", thread_ts=first["ts"]
            )
            bot.fake.add_thread_message("C0SUPPORT", first["ts"], dict(follow_up))
            bot.event(follow_up)
            bot.fake.wait_for(lambda: len(exchanges(bot)) == 2, what="the follow-up's answer")

            condense = llm.requests[asked_before]  # the follow-up is rewritten with history
            history = str(condense["messages"])
            assert "How do I factory reset the Nimbus Hub?" in history
            assert "Hold Reset for 10 seconds" in history, "the bot's earlier answer is a turn"
            second = exchanges(bot)[1]
            assert second.thread_ts == first["ts"]
            assert second.conversation_id == exchanges(bot)[0].conversation_id


def test_chatter_in_a_thread_the_bot_never_joined_is_left_alone(make_bot: BotFactory) -> None:
    with make_bot(slack_support_channels=["C0SUPPORT"]) as bot:
        reply = message_event("How do we feel about the launch?", thread_ts="1600000000.000100")
        bot.event(reply)
        bot.handled()
        assert exchanges(bot) == []


def test_thanks_in_the_bots_thread_gets_no_answer(make_bot: BotFactory) -> None:
    with make_bot(slack_support_channels=["C0SUPPORT"]) as bot:
        first = message_event("How do I factory reset the Nimbus Hub?")
        bot.event(first)
        bot.wait_for_answer("C0SUPPORT", first["ts"])
        bot.event(message_event("thanks, that worked!", thread_ts=first["ts"]))
        bot.handled()
        assert len(exchanges(bot)) == 1
