"""A Slack hand-off (here: a question the docs cannot answer) opens a ticket too, with the
thread's link, and tells the asker its reference in the thread."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import Session, select

from supportbot.models import Exchange
from supportbot.settings import Settings
from tests.support.service_fake import service_fake
from tests.support.slack_harness import mention_event, serve_slack_bot
from tests.support.ticket_systems import (
    linear_settings,
    serve_linear,
    serve_zendesk,
    zendesk_settings,
)

QUESTION = "What is the airspeed velocity of an unladen swallow?"


def test_an_abstained_question_opens_a_zendesk_ticket_with_the_thread(
    sample_knowledge: Path, tmp_path: Path
) -> None:
    with service_fake() as zendesk:
        serve_zendesk(zendesk, 35437)
        settings = Settings(
            data_dir=sample_knowledge,
            database_url=f"sqlite:///{tmp_path}/bot.db",
            slack_escalation_channel="C0ESCALATE",
            handoff_ticket="zendesk",
            **zendesk_settings(zendesk),
        )
        with serve_slack_bot(settings) as bot:
            event = mention_event(QUESTION)
            bot.event(event)
            told = bot.fake.wait_for(
                lambda: [
                    p
                    for p in bot.fake.called("chat.postMessage")
                    if p["channel"] == event["channel"] and "Ticket #35437" in p.get("text", "")
                ],
                what="the asker told the ticket's reference",
            )
            assert told
            [(_path, _headers, body)] = zendesk.posted
            ticket = json.loads(body)["ticket"]
            assert QUESTION in ticket["comment"]["body"]
            assert "https://example.slack.com/archives/C0SUPPORT/p" in ticket["comment"]["body"]
            assert "requester" not in ticket, "a Slack asker leaves no e-mail"
            escalation = [
                p for p in bot.fake.called("chat.postMessage") if p["channel"] == "C0ESCALATE"
            ]
            assert "ticket #35437" in escalation[0]["text"]
            with Session(bot.engine) as session:
                [exchange] = session.exec(select(Exchange)).all()
            assert exchange.ticket_ref == "#35437"


def test_a_channel_hands_off_to_its_own_ticket_system(
    sample_knowledge: Path, tmp_path: Path
) -> None:
    with service_fake() as services:
        serve_linear(services, "HUB-3")
        route = {"backend": "linear", "linear_team_id": "team-hub"}
        settings = Settings(
            data_dir=sample_knowledge,
            database_url=f"sqlite:///{tmp_path}/bot.db",
            slack_escalation_channel="C0ESCALATE",
            slack_channel_settings={"C0SUPPORT": {"handoff_ticket": route}},
            handoff_ticket="zendesk",
            **zendesk_settings(services),
            **linear_settings(services, team="team-default"),
        )
        with serve_slack_bot(settings) as bot:
            event = mention_event(QUESTION)
            assert event["channel"] == "C0SUPPORT"
            bot.event(event)
            bot.fake.wait_for(
                lambda: [
                    p
                    for p in bot.fake.called("chat.postMessage")
                    if p["channel"] == event["channel"] and "Ticket HUB-3" in p.get("text", "")
                ],
                what="the asker told the channel's own ticket",
            )
            [(path, _headers, body)] = services.posted
            assert path == "/graphql", "not the deployment's Zendesk"
            assert json.loads(body)["variables"]["input"]["teamId"] == "team-hub"
