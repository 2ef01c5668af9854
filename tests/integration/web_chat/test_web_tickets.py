"""A web hand-off opens a ticket in the team's system, against local servers answering
with each API's documented shapes (Zendesk `POST /api/v2/tickets.json`, Jira
`POST /rest/api/3/issue`, Linear's GraphQL `issueCreate`) and a real local SMTP server:
the ticket carries the transcript, the sources and the contact, its reference is kept on
the exchange and shown to the asker, and a failing ticket system loses nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.support.app_server import free_port
from tests.support.service_fake import Reply, ServiceFake, service_fake
from tests.support.ticket_systems import (
    jira_settings,
    linear_settings,
    serve_jira,
    serve_linear,
    serve_zendesk,
    zendesk_settings,
)
from tests.support.web import Web

RESET = "How do I factory reset the Nimbus Hub?"
CONTACT = "pat@example.com"


@pytest.fixture
def service() -> Iterator[ServiceFake]:
    with service_fake() as fake:
        yield fake


def hand_off(web: Web, **ask: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Ask, then ask for a person; (the answer, the hand-off's reply)."""
    answer = web.post("/api/chat", {"message": RESET, **ask}).json()
    reply = web.post(
        "/api/handoff", {"conversation_id": answer["conversation_id"], "contact": CONTACT}
    )
    assert reply.status_code == 200, reply.text
    return answer, reply.json()


def test_a_zendesk_ticket_with_the_transcript_sources_and_requester(
    make_web, service: ServiceFake
) -> None:
    serve_zendesk(service)
    with make_web(handoff_ticket="zendesk", **zendesk_settings(service)) as web:
        answer, reply = hand_off(web)
        [(path, headers, body)] = service.posted
        assert path == "/api/v2/tickets.json"
        assert headers["authorization"].startswith("Basic ")
        ticket = json.loads(body)["ticket"]
        assert ticket["subject"] == f"Support chat: {RESET}"
        assert ticket["requester"] == {"email": CONTACT, "name": CONTACT}
        assert RESET in ticket["comment"]["body"]
        assert answer["answer"][:60] in ticket["comment"]["body"]
        assert answer["sources"][0]["url"] in ticket["comment"]["body"]
        assert reply["ticket"] == "#35436"
        assert "Your ticket: #35436." in reply["message"]
        [exchange] = web.exchanges()
        assert (exchange.ticket_ref, exchange.ticket_url) == (
            "#35436",
            f"{service.url}/agent/tickets/35436",
        )


def test_a_jira_issue_in_the_project(make_web, service: ServiceFake) -> None:
    serve_jira(service)
    with make_web(handoff_ticket="jira", jira_project="SUP", **jira_settings(service)) as web:
        _answer, reply = hand_off(web)
        [(_path, _headers, body)] = service.posted
        fields = json.loads(body)["fields"]
        assert fields["project"] == {"key": "SUP"}
        assert fields["issuetype"] == {"name": "Task"}
        assert fields["description"]["type"] == "doc"
        text = json.dumps(fields["description"])
        assert RESET in text
        assert CONTACT in text
        assert reply["ticket"] == "SUP-24"
        assert web.exchanges()[0].ticket_url == f"{service.url}/browse/SUP-24"


def test_a_linear_issue_through_graphql(make_web, service: ServiceFake) -> None:
    serve_linear(service)
    with make_web(handoff_ticket="linear", **linear_settings(service)) as web:
        _answer, reply = hand_off(web)
        [(_path, headers, body)] = service.posted
        assert headers["authorization"] == "lin_api_0123456789abcdef"
        sent = json.loads(body)
        assert "issueCreate" in sent["query"]
        assert sent["variables"]["input"]["teamId"] == "team-1"
        assert RESET in sent["variables"]["input"]["description"]
        assert reply["ticket"] == "SUP-7"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)
        return "250 Message accepted for delivery"


def test_an_email_to_the_team_through_a_real_smtp_server(make_web) -> None:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = {
            "handoff_ticket": "email",
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_starttls": False,
            "handoff_email_to": "support@acme.example",
            "handoff_email_from": "bot@acme.example",
        }
        with make_web(**settings) as web:
            _answer, reply = hand_off(web)
            [raw] = inbox.messages
            message = message_from_bytes(raw)
            assert message["To"] == "support@acme.example"
            assert message["Reply-To"] == CONTACT
            assert RESET in message.get_payload(decode=True).decode()
            assert reply["ticket"] is None, "a Message-ID is not a reference for the asker"
            assert web.exchanges()[0].ticket_ref.startswith("<")
    finally:
        controller.stop()


def test_a_failing_ticket_system_still_hands_off(make_web, service: ServiceFake) -> None:
    service.routes["/api/v2/tickets.json"] = lambda *_: Reply(503, "down")
    with make_web(handoff_ticket="zendesk", **zendesk_settings(service)) as web:
        _answer, reply = hand_off(web)
        assert reply["status"] == "escalated"
        assert reply["ticket"] is None
        [exchange] = web.exchanges()
        assert exchange.escalated
        assert exchange.ticket_ref is None


def test_a_half_configured_backend_is_reported_and_hand_offs_still_work(make_web) -> None:
    with make_web(handoff_ticket="jira", jira_url="https://acme.atlassian.net") as web:
        _answer, reply = hand_off(web)
        assert reply["status"] == "escalated"
        assert reply["ticket"] is None


def test_each_product_can_hand_off_to_its_own_ticket_system(make_web, service: ServiceFake) -> None:
    serve_zendesk(service)
    serve_jira(service)
    routes = {
        "Nimbus Hub": {"backend": "jira", "jira_project": "HUB", "jira_issue_type": "Bug"},
        "*": {"backend": "zendesk", "zendesk_group_id": 360001},
    }
    settings = {**zendesk_settings(service), **jira_settings(service), "jira_project": "SUP"}
    with make_web(handoff_ticket="none", web_handoff_tickets=routes, **settings) as web:
        _answer, hub = hand_off(web, product="Nimbus Hub")
        [(path, _headers, body)] = service.posted
        assert path == "/rest/api/3/issue"
        fields = json.loads(body)["fields"]
        assert (fields["project"], fields["issuetype"]) == ({"key": "HUB"}, {"name": "Bug"})
        assert hub["ticket"] == "SUP-24"

        service.posted.clear()
        _answer, other = hand_off(web, any_product=True)
        [(path, _headers, body)] = service.posted
        assert path == "/api/v2/tickets.json"
        assert json.loads(body)["ticket"]["group_id"] == 360001
        assert other["ticket"] == "#35436"


def test_a_product_routed_to_none_opens_no_ticket(make_web, service: ServiceFake) -> None:
    serve_zendesk(service)
    routes = {"Nimbus Hub": "none"}
    with make_web(
        handoff_ticket="zendesk", web_handoff_tickets=routes, **zendesk_settings(service)
    ) as web:
        _answer, reply = hand_off(web, product="Nimbus Hub")
        assert (reply["status"], reply["ticket"]) == ("escalated", None)
        assert service.posted == []
        _answer, reply = hand_off(web, any_product=True)
        assert reply["ticket"] == "#35436", "other conversations use the deployment's backend"
