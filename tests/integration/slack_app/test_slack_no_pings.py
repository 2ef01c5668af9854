"""Nothing the bot posts can ping people unless our own template means to.

Every mention form Slack notifies on goes in through every way text reaches a post:
the asker's question, the model's streamed and final answer, a source's title and
excerpt, a 👎 comment, a pair in App Home, a slash command's text and the leads'
report. Then every call the bot made to Slack is searched for live mentions; the only
ones allowed are the hand-off's own: the leads' group and the people it is about.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.slack.blocks import ACTION_HANDOFF, ACTION_NOT_HELPFUL
from bot.slack.outbound import LIVE_MENTION
from bot.slack.reports import post_report
from knowledge.answering import Answer, Citation, Turn
from supportbot.db import session_scope
from supportbot.models import QAPair
from supportbot.settings import Settings
from tests.support.slack_fixtures import exchanges, feedback
from tests.support.slack_harness import (
    SlackBotUnderTest,
    block_action,
    mention_event,
    new_ts,
    serve_slack_bot,
    view_submission,
)

LEADS_GROUP = "S0LEADS"
LEAD = "U0LEAD"
HELPER = "U0HELPER"
ATTACKS = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!here|here>",
    "<!subteam^S0OTHER>",
    "<!subteam^S0OTHER|@others>",
    "<@U0VICTIM>",
    "<@W0VICTIM|victim>",
    "&lt;!here&gt;",  # escaped, as Slack sends typed text: must not come back to life
    "**<!channel>**",
    "`<!channel>`",
    "[<!here>](https://example.com)",
]
HOSTILE = " ".join(ATTACKS)
ALLOWED = {f"<!subteam^{LEADS_GROUP}>", "<@U0ASKER>", f"<@{HELPER}>"}


def hostile_answerer(question: str, *, history: list[Turn], filters: Any, on_token: Any) -> Answer:
    """The model and the documents turned hostile: every form in tokens, text, sources."""
    text = f"Hold Reset [1]. {HOSTILE}\n\n- {HOSTILE}\n\n```\n{HOSTILE}\n```"
    if on_token is not None:
        for piece in text.split(" "):
            on_token(piece + " ")
    citation = Citation(
        1, f"Manual {HOSTILE}", HOSTILE, "https://docs.example/reset", None, "manual", "m", 0.9,
        HOSTILE,
    )  # fmt: skip
    return Answer(text, [citation], "generated", question, question)


def strings(value: Any) -> list[str]:
    """Every string in an API call's arguments, JSON-encoded fields opened up."""
    if isinstance(value, str):
        if value[:1] in ("[", "{"):
            try:
                return strings(json.loads(value))
            except ValueError:
                pass
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return []


def live_mentions(bot: SlackBotUnderTest) -> set[str]:
    return {
        mention
        for call in bot.fake.calls
        for text in strings(call.args)
        for mention in LIVE_MENTION.findall(text)
    }


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "posted"])
def test_no_surface_carries_a_ping_we_did_not_mean(
    sample_knowledge: Path, tmp_path: Path, streaming: bool
) -> None:
    settings = Settings(
        data_dir=sample_knowledge,
        database_url=f"sqlite:///{tmp_path}/bot.db",
        slack_streaming=streaming,
        slack_escalation_channel="C0ESCALATE",
        slack_lead_usergroup=LEADS_GROUP,
        slack_lead_user_ids=[LEAD],
    )
    with serve_slack_bot(settings, hostile_answerer) as bot:
        _answer_a_hostile_question(bot)
        _dislike_with_a_hostile_comment(bot)
        _ask_for_a_human(bot)
        _open_app_home_with_a_hostile_pair(bot)
        assert bot.command(f"help {HOSTILE}").status_code == 200
        bot.fake.wait_for(lambda: bot.fake.called("respond"), what="the command's reply")
        post_report(bot.settings.model_copy(update={"slack_leads_channel": "C0LEADS"}), HOSTILE)

        found = live_mentions(bot)
        assert found <= ALLOWED, f"live pings from relayed text: {found - ALLOWED}"
        escalation = [
            p for p in bot.fake.called("chat.postMessage") if p["channel"] == "C0ESCALATE"
        ]
        assert f"<!subteam^{LEADS_GROUP}>" in escalation[0]["text"], "our own ping still works"
        reported = bot.fake.called("chat.postMessage")[-1]["text"]
        assert "&lt;!channel&gt;" in reported, "the forms are shown as text, not dropped"


def _answer_a_hostile_question(bot: SlackBotUnderTest) -> None:
    event = mention_event(f"How do I reset it? {HOSTILE}")
    bot.event(event)
    bot.fake.wait_for(lambda: exchanges(bot) and exchanges(bot)[0].reply_ts, what="the answer")


def _dislike_with_a_hostile_comment(bot: SlackBotUnderTest) -> None:
    exchange = exchanges(bot)[0]
    message = {"type": "message", "ts": exchange.reply_ts, "thread_ts": exchange.thread_ts}
    bot.interaction(block_action(ACTION_NOT_HELPFUL, str(exchange.id), message=message))
    [opened] = bot.fake.wait_for(lambda: bot.fake.called("views.open"), what="the modal")
    view = opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])
    submission = view_submission(view, {"comment": HOSTILE, "correction": HOSTILE})
    assert bot.interaction(submission).status_code == 200
    bot.fake.wait_for(lambda: feedback(bot), what="the 👎 stored")


def _ask_for_a_human(bot: SlackBotUnderTest) -> None:
    exchange = exchanges(bot)[0]
    message = {"type": "message", "ts": exchange.reply_ts, "thread_ts": exchange.thread_ts}
    bot.interaction(block_action(ACTION_HANDOFF, str(exchange.id), user_id=HELPER, message=message))
    bot.fake.wait_for(
        lambda: [p for p in bot.fake.called("chat.postMessage") if p["channel"] == "C0ESCALATE"],
        what="the hand-off",
    )


def _open_app_home_with_a_hostile_pair(bot: SlackBotUnderTest) -> None:
    with session_scope(bot.engine) as session:
        session.add(QAPair(question=HOSTILE, answer=HOSTILE, comment=HOSTILE, surface="slack"))
    event = {"type": "app_home_opened", "user": LEAD, "channel": "D0HOME", "tab": "home"}
    bot.event({**event, "event_ts": new_ts()})
    bot.fake.wait_for(
        lambda: any(
            "Answers to review" in str(c["view"]) for c in bot.fake.called("views.publish")
        ),
        what="App Home",
    )
