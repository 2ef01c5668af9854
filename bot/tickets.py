"""Ticket hand-off: when a web visitor asks for a person, open a ticket in the support
team's own system with the conversation, the sources the bot showed and the visitor's
contact. The deployment's backend (`SUPPORTBOT_HANDOFF_TICKET`), or a Slack channel's own
(`slack_channel_settings`) or a web product's (`web_handoff_tickets`), see `TicketDesks`:

- zendesk: `POST /api/v2/tickets.json` (the visitor as requester);
- jira: `POST /rest/api/3/issue` (the description in Atlassian Document Format);
- linear: the GraphQL `issueCreate` mutation;
- email: a message to the team over SMTP (Reply-To: the visitor).

A failing ticket system never loses the hand-off: it is queued on the review page and
in Slack either way, and the failure is logged.
"""

from __future__ import annotations

import asyncio
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, Protocol

import httpx
import structlog

from bot.exchange_log import ExchangeLog
from supportbot.models import Exchange, Surface
from supportbot.settings import Settings

log = structlog.stdlib.get_logger(__name__)

TIMEOUT_S = 15.0
SUBJECT_CHARS = 120


@dataclass
class Turn:
    question: str
    answer: str


@dataclass
class Ticket:
    """What the team needs to pick the conversation up."""

    turns: list[Turn]
    contact: str | None
    sources: list[dict[str, str | None]] = field(default_factory=list)  # title, url
    surface: str = "web"
    link: str | None = None  # where the conversation is (a Slack thread)

    @property
    def subject(self) -> str:
        first = self.turns[0].question if self.turns else "A question"
        first = " ".join(first.split())
        cut = first if len(first) <= SUBJECT_CHARS else first[: SUBJECT_CHARS - 1] + "…"
        return f"Support chat: {cut}"

    def body(self) -> str:
        """The transcript as plain text (every backend gets the same words)."""
        lines = [f"A {self.surface} chat visitor asked for a person."]
        lines.append(f"Reply to: {self.contact}" if self.contact else "No contact left.")
        if self.link:
            lines.append(f"Conversation: {self.link}")
        for number, turn in enumerate(self.turns, start=1):
            lines += ["", f"Question {number}: {turn.question}", f"Bot: {turn.answer}"]
        if self.sources:
            lines += ["", "Sources shown:"]
            lines += [f"- {s.get('title') or 'Source'}: {s.get('url') or ''}" for s in self.sources]
        return "\n".join(lines)


@dataclass
class Opened:
    reference: str  # what the asker is told: "#35436", "SUP-12"
    url: str | None  # where the team opens it


class Ticketing(Protocol):
    def open(self, ticket: Ticket) -> Opened: ...


class ZendeskTickets:
    def __init__(self, base: str, email: str, token: str, group_id: int | None = None) -> None:
        self.base = base.rstrip("/")
        self.auth = (f"{email}/token", token)
        self.group_id = group_id

    def open(self, ticket: Ticket) -> Opened:
        payload: dict[str, Any] = {
            "ticket": {
                "subject": ticket.subject,
                "comment": {"body": ticket.body()},
                "tags": ["supportbot", "chat_handoff"],
            }
        }
        if ticket.contact:
            payload["ticket"]["requester"] = {"email": ticket.contact, "name": ticket.contact}
        if self.group_id is not None:
            payload["ticket"]["group_id"] = self.group_id
        response = httpx.post(
            f"{self.base}/api/v2/tickets.json", json=payload, auth=self.auth, timeout=TIMEOUT_S
        )
        response.raise_for_status()
        number = response.json()["ticket"]["id"]
        return Opened(f"#{number}", f"{self.base}/agent/tickets/{number}")


class JiraIssues:
    def __init__(self, base: str, email: str, token: str, project: str, issue_type: str) -> None:
        self.base = base.rstrip("/")
        self.auth = (email, token)
        self.project = project
        self.issue_type = issue_type

    def open(self, ticket: Ticket) -> Opened:
        paragraphs = [
            {"type": "paragraph", "content": [{"type": "text", "text": line}]}
            for line in ticket.body().split("\n")
            if line
        ]
        payload = {
            "fields": {
                "project": {"key": self.project},
                "summary": ticket.subject,
                "issuetype": {"name": self.issue_type},
                "labels": ["supportbot"],
                "description": {"type": "doc", "version": 1, "content": paragraphs},
            }
        }
        response = httpx.post(
            f"{self.base}/rest/api/3/issue", json=payload, auth=self.auth, timeout=TIMEOUT_S
        )
        response.raise_for_status()
        key = response.json()["key"]
        return Opened(key, f"{self.base}/browse/{key}")


LINEAR_ISSUE_CREATE = """mutation IssueCreate($input: IssueCreateInput!) {
  issueCreate(input: $input) { success issue { id identifier url } }
}"""


class LinearIssues:
    def __init__(self, endpoint: str, key: str, team_id: str) -> None:
        self.endpoint = endpoint
        self.key = key
        self.team_id = team_id

    def open(self, ticket: Ticket) -> Opened:
        variables = {
            "input": {"teamId": self.team_id, "title": ticket.subject, "description": ticket.body()}
        }
        response = httpx.post(
            self.endpoint,
            json={"query": LINEAR_ISSUE_CREATE, "variables": variables},
            headers={"Authorization": self.key},  # Linear API keys go bare, no "Bearer"
            timeout=TIMEOUT_S,
        )
        response.raise_for_status()
        data = response.json()
        if data.get("errors"):
            raise RuntimeError(f"Linear refused the issue: {data['errors'][0].get('message')}")
        created = data["data"]["issueCreate"]
        if not created.get("success"):
            raise RuntimeError("Linear did not create the issue")
        return Opened(created["issue"]["identifier"], created["issue"]["url"])


class EmailTickets:
    def __init__(self, settings: Settings) -> None:
        assert settings.smtp_host
        assert settings.handoff_email_to
        assert settings.handoff_email_from
        self.settings = settings

    def open(self, ticket: Ticket) -> Opened:
        s = self.settings
        message = EmailMessage()
        message["Subject"] = ticket.subject
        message["From"] = s.handoff_email_from
        message["To"] = s.handoff_email_to
        if ticket.contact:
            message["Reply-To"] = ticket.contact
        message["Message-ID"] = make_msgid(domain="supportbot")
        message.set_content(ticket.body())
        with smtplib.SMTP(s.smtp_host or "", s.smtp_port, timeout=TIMEOUT_S) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_username and s.smtp_password:
                smtp.login(s.smtp_username, s.smtp_password.get_secret_value())
            smtp.send_message(message)
        return Opened(message["Message-ID"], None)


class TicketingNotConfigured(ValueError):
    """The chosen backend lacks a setting; says which."""


def open_ticketing(settings: Settings) -> Ticketing | None:
    """The configured backend, or None; raises TicketingNotConfigured for a half setup."""
    kind = settings.handoff_ticket

    def need(*names: str) -> None:
        missing = [n for n in names if not getattr(settings, n)]
        if missing:
            wanted = ", ".join(f"SUPPORTBOT_{n.upper()}" for n in missing)
            raise TicketingNotConfigured(f"the {kind} hand-off needs {wanted}")

    if kind == "zendesk":
        need("zendesk_url", "zendesk_email", "zendesk_api_token")
        assert settings.zendesk_api_token is not None
        return ZendeskTickets(
            settings.zendesk_url or "",
            settings.zendesk_email or "",
            settings.zendesk_api_token.get_secret_value(),
            settings.zendesk_group_id,
        )
    if kind == "jira":
        need("jira_url", "jira_email", "jira_api_token", "jira_project")
        assert settings.jira_api_token is not None
        return JiraIssues(
            settings.jira_url or "",
            settings.jira_email or "",
            settings.jira_api_token.get_secret_value(),
            settings.jira_project or "",
            settings.jira_issue_type,
        )
    if kind == "linear":
        need("linear_api_key", "linear_team_id")
        assert settings.linear_api_key is not None
        return LinearIssues(
            settings.linear_api_url,
            settings.linear_api_key.get_secret_value(),
            settings.linear_team_id or "",
        )
    if kind == "email":
        need("smtp_host", "handoff_email_to", "handoff_email_from")
        return EmailTickets(settings)
    return None


def configured_ticketing(settings: Settings) -> Ticketing | None:
    """The backend, or None when there is none or it is half configured (logged: the
    hand-off itself still works)."""
    try:
        return open_ticketing(settings)
    except TicketingNotConfigured as error:
        log.error("handoff.ticketing_disabled", error=str(error))
        return None


class TicketDesks:
    """The ticket system for each hand-off: a Slack channel's own, or the web product's
    own (the product the conversation was scoped to, else "*"), else the deployment's.
    Every route is opened at start, so a half-configured one is reported then."""

    def __init__(self, settings: Settings) -> None:
        self.default = configured_ticketing(settings)
        self.slack = {
            channel: self._open(settings, config.handoff_ticket.overrides())
            for channel, config in settings.slack_channel_settings.items()
            if config.handoff_ticket is not None
        }
        self.web = {
            product: self._open(settings, route.overrides())
            for product, route in settings.web_handoff_tickets.items()
        }

    @staticmethod
    def _open(settings: Settings, overrides: dict[str, Any]) -> Ticketing | None:
        return configured_ticketing(settings.model_copy(update=overrides))

    def for_exchange(self, exchange: Exchange) -> Ticketing | None:
        if exchange.surface == Surface.SLACK and exchange.channel_id in self.slack:
            return self.slack[exchange.channel_id or ""]
        if exchange.surface == Surface.WEB and self.web:
            products = (exchange.scope or {}).get("products") or []
            if len(products) == 1 and products[0] in self.web:
                return self.web[products[0]]
            if "*" in self.web:
                return self.web["*"]
        return self.default


async def open_handoff_ticket(
    ticketing: Ticketing | None,
    exchanges: ExchangeLog,
    exchange: Exchange,
    contact: str | None = None,
    link: str | None = None,
) -> Opened | None:
    """Open a hand-off's ticket with the whole conversation and keep it on the exchange;
    None when there is no ticket system or it failed (the hand-off stands regardless)."""
    if ticketing is None or exchange.id is None:
        return None
    rows = (
        await asyncio.to_thread(exchanges.conversation, exchange.conversation_id, "")
        if exchange.conversation_id
        else []
    )
    ticket = Ticket(
        turns=[Turn(row.question, row.answer) for row, _rating in rows]
        or [Turn(exchange.question, exchange.answer)],
        contact=contact,
        sources=[{"title": s.get("title"), "url": s.get("url")} for s in exchange.sources],
        surface=exchange.surface.value,
        link=link,
    )
    try:
        opened = await asyncio.to_thread(ticketing.open, ticket)
        await asyncio.to_thread(exchanges.set_ticket, exchange.id, opened.reference, opened.url)
    except Exception as error:
        log.error("handoff.ticket_failed", error=f"{type(error).__name__}: {error}")
        return None
    log.info("handoff.ticket_opened", exchange_id=exchange.id, ticket=opened.reference)
    return opened


def shown_reference(opened: Opened | None) -> str | None:
    """What the asker is told: the ticket's reference, never an e-mail's Message-ID."""
    if opened is None or opened.reference.startswith("<"):
        return None
    return opened.reference
