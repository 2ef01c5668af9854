"""Settings of the running service: storage, Slack, delivery, the web, logging."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings

from supportbot.settings.types import (
    MIN_SECRET_CHARS,
    ChannelConfig,
    CommaList,
    ExternalPolicy,
    LogFormat,
    TicketBackend,
    TicketRoute,
)

CONNECTOR_SETTINGS = frozenset(
    {
        "zendesk_email",
        "zendesk_api_token",
        "confluence_email",
        "confluence_api_token",
        "github_token",
        "github_api_url",
        "notion_token",
        "notion_api_url",
    }
)


class ServiceSettings(BaseSettings):
    # --- storage -------------------------------------------------------------------
    data_dir: Path = Field(
        default=Path("data"),
        description="Directory for the SQLite database, the embedded document store, "
        "datasets and trained adapters. Relative paths are resolved against the "
        "working directory.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the application database. Default: SQLite file "
        "supportbot.db in the data directory. PostgreSQL: "
        "postgresql+psycopg://user:password@host:5432/supportbot",
    )
    auto_migrate: bool = Field(
        default=True,
        description="Apply pending database migrations when `serve` or `scheduler` "
        "starts. Turn off where migrations are run as a separate deployment step.",
    )

    # --- Slack ---------------------------------------------------------------------
    slack_bot_token: SecretStr | None = Field(default=None, description="Bot token (xoxb-…).")
    slack_signing_secret: SecretStr | None = Field(
        default=None, description="Signing secret that verifies Slack's HTTP requests."
    )
    slack_app_token: SecretStr | None = Field(
        default=None, description="App-level token (xapp-…); when set, Socket Mode is used."
    )
    slack_support_channels: CommaList = Field(
        default_factory=list,
        description="Channel ids where the bot answers questions without a mention.",
    )
    slack_lead_user_ids: CommaList = Field(
        default_factory=list, description="Slack user ids of support leads."
    )
    slack_lead_usergroup: str | None = Field(
        default=None, description="Slack user group id whose members are support leads."
    )
    slack_escalation_channel: str | None = Field(
        default=None, description="Channel id where hand-offs to a human are posted."
    )
    slack_leads_channel: str | None = Field(
        default=None,
        description="Channel id for the leads' weekly report (default: the escalation channel).",
    )
    slack_channel_settings: dict[str, ChannelConfig] = Field(
        default_factory=dict,
        description='Per-channel settings as JSON: {"C0123": {"auto_answer": true, '
        '"kinds": ["manual"], "tags": ["billing"], "products": ["Nimbus Hub"]}}. '
        "Leads can override them in Slack with /supportbot.",
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/",
        description="Base URL of Slack's Web API (change only for GovSlack or a test double).",
    )
    slack_streaming: bool = Field(
        default=True,
        description="Stream answers with chat.startStream/appendStream/stopStream; when off "
        "(or when Slack refuses), post the answer and update it as it grows.",
    )
    slack_auto_handoff: bool = Field(
        default=True, description="Hand off to a human automatically when the bot abstains."
    )
    slack_answer_workers: int = Field(
        default=8,
        ge=1,
        le=256,
        description="Threads that compute answers; acks never wait for them.",
    )

    slack_external_users: ExternalPolicy = Field(
        default="answer",
        description="Questions from people of other organisations in a shared (Slack "
        "Connect) channel: answer, hand_off to a person, or ignore. Per channel: "
        "external_users in SUPPORTBOT_SLACK_CHANNEL_SETTINGS.",
    )
    slack_max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=16 * 1024,
        description="Requests to /slack/events larger than this get 413 before being read.",
    )

    # --- delivery ------------------------------------------------------------------
    delivery_heartbeat_s: float = Field(
        default=5.0,
        gt=0,
        description="How often a server says it is alive and looks for questions a dead "
        "one left unanswered.",
    )
    delivery_stale_after_s: float = Field(
        default=30.0,
        gt=0,
        description="A server silent this long is dead: another resumes its questions.",
    )
    delivery_max_age_s: float = Field(
        default=900.0,
        gt=0,
        description="A question left unanswered longer than this is handed to a person "
        "instead of answered late.",
    )
    shutdown_grace_s: float = Field(
        default=25.0,
        ge=0,
        description="On SIGTERM, how long in-flight answers may take to finish; the rest "
        "are left for the next process (keep it under the orchestrator's kill timeout).",
    )

    # --- connectors (knowledge/connectors) ----------------------------------------
    zendesk_email: str | None = Field(
        default=None, description="A Zendesk agent's e-mail, with the API token (optional)."
    )
    zendesk_api_token: SecretStr | None = Field(
        default=None, description="A Zendesk API token; without one, the public help centre."
    )
    confluence_email: str | None = Field(
        default=None, description="Confluence Cloud: the account's e-mail, with the API token."
    )
    confluence_api_token: SecretStr | None = Field(
        default=None,
        description="Confluence Cloud: an API token (with the e-mail); Data Center: a "
        "personal access token (alone).",
    )
    github_token: SecretStr | None = Field(
        default=None, description="A GitHub token for `github` sources (private repos, limits)."
    )
    github_api_url: str | None = Field(
        default=None, description="GitHub Enterprise's API URL (default https://api.github.com)."
    )
    notion_token: SecretStr | None = Field(
        default=None,
        description="A Notion integration's secret for `notion` sources (share the pages "
        "with the integration in Notion).",
    )
    notion_api_url: str | None = Field(
        default=None, description="Notion's API URL (default https://api.notion.com)."
    )

    def connector_secret(self, name: str) -> str | None:
        """A connector's setting by name, secrets revealed (for its HTTP client only)."""
        if name not in CONNECTOR_SETTINGS:
            raise KeyError(name)
        value = getattr(self, name, None)
        if isinstance(value, SecretStr):
            return value.get_secret_value()
        return value if isinstance(value, str) else None

    # --- ticket hand-off (bot/tickets.py) -------------------------------------------
    handoff_ticket: TicketBackend = Field(
        default="none",
        description="Where a hand-off (web or Slack) also opens a ticket, with the "
        "conversation, the sources shown and the contact. A Slack channel can choose its own "
        '(`slack_channel_settings`: {"C0123": {"handoff_ticket": "jira"}}), and a web '
        "product its own (`web_handoff_tickets`).",
    )
    web_handoff_tickets: dict[str, TicketRoute] = Field(
        default_factory=dict,
        description="The web chat's ticket system per product (a widget's `data-product`), "
        'as JSON: {"Nimbus Hub": {"backend": "jira", "jira_project": "HUB"}, "*": "zendesk"} '
        '("*": every other product; "none": no ticket).',
    )
    zendesk_group_id: int | None = Field(
        default=None, description="Zendesk: the group new hand-off tickets go to (optional)."
    )
    zendesk_url: str | None = Field(
        default=None, description="Zendesk Support, for tickets: https://SUBDOMAIN.zendesk.com."
    )
    jira_url: str | None = Field(default=None, description="Jira: https://SITE.atlassian.net.")
    jira_email: str | None = Field(default=None, description="Jira: the account's e-mail.")
    jira_api_token: SecretStr | None = Field(default=None, description="Jira: an API token.")
    jira_project: str | None = Field(default=None, description="Jira: the project key.")
    jira_issue_type: str = Field(default="Task", description="Jira: the issue type's name.")
    linear_api_key: SecretStr | None = Field(default=None, description="Linear: an API key.")
    linear_team_id: str | None = Field(default=None, description="Linear: the team's id.")
    linear_api_url: str = Field(
        default="https://api.linear.app/graphql", description="Linear's GraphQL endpoint."
    )
    smtp_host: str | None = Field(default=None, description="E-mail hand-off: the SMTP server.")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="The SMTP port.")
    smtp_starttls: bool = Field(default=True, description="Upgrade to TLS with STARTTLS.")
    smtp_username: str | None = Field(default=None, description="SMTP login (optional).")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    handoff_email_to: str | None = Field(
        default=None, description="E-mail hand-off: the support team's address."
    )
    handoff_email_from: str | None = Field(
        default=None, description="E-mail hand-off: the sender address."
    )

    # --- web chat ------------------------------------------------------------------
    web_api_key: SecretStr | None = Field(
        default=None,
        description="When set, /api/* needs it in an X-API-Key header (the chat page gets "
        "short-lived signed tokens instead).",
    )
    web_allowed_origins: CommaList = Field(
        default_factory=list,
        description="Sites that may embed the chat widget and call the API from the "
        "browser (e.g. https://help.example.com). Empty: any site may embed the page; "
        "the API answers same-origin browser calls only.",
    )
    web_rate_limit_per_minute: int = Field(
        default=20, ge=1, description="Questions per minute per client address."
    )
    web_answer_workers: int = Field(
        default=8, ge=1, le=256, description="Threads that compute web chat answers."
    )

    web_title: str = Field(
        default="Support", min_length=1, max_length=80, description="The chat's title."
    )
    web_primary_color: str | None = Field(
        default=None,
        pattern=r"^#[0-9A-Fa-f]{6}$",
        description="The chat's primary colour (#rrggbb); a widget's data-color overrides it.",
    )
    web_logo_url: str | None = Field(
        default=None,
        pattern=r"^(https://[^\s\"'<>]+|/[^/\s\"'<>][^\s\"'<>]*)$",
        description="A logo for the chat's header: an https URL (its host is allowed to "
        "serve images to the page) or a path on this server.",
    )
    web_starter_questions: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Questions offered on an empty conversation, per product, as JSON: "
        '{"*": ["How do I reset my password?"], "Nimbus Hub": ["How do I pair a sensor?"]} '
        '("*": for every product).',
    )
    web_suggest_min_askers: int = Field(
        default=3,
        ge=1,
        description="A web question is suggested to others only after this many "
        "conversations asked it and got an answer (and only if it holds no personal data).",
    )
    web_default_language: str = Field(
        default="en",
        pattern=r"^[a-z]{2}$",
        description="The page's language when neither the widget nor the browser names "
        "one it has (en, de, fr).",
    )

    mcp_token: SecretStr | None = Field(
        default=None,
        description="The bearer token AI tools send to `supportbot mcp --transport http` "
        "(Authorization: Bearer …); the HTTP transport refuses to start without one.",
    )

    review_tokens: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Support leads' sign-in tokens for the web review page, as JSON: "
        '{"pat": "a-long-random-token"}. Decisions are recorded as web:<name>.',
    )

    # --- web server ----------------------------------------------------------------
    host: str = Field(default="127.0.0.1", description="Address `serve` binds to.")
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Reverse proxies whose X-Forwarded-For/-Proto headers are trusted "
        "(comma-separated addresses, or * when only the proxy can reach the server).",
    )
    port: int = Field(default=8000, ge=1, le=65535, description="Port `serve` listens on.")

    # --- logging -------------------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Minimum level of log records."
    )
    log_format: LogFormat = Field(
        default=LogFormat.CONSOLE,
        description="'console' for people, 'json' for log collectors (one object per line).",
    )

    @field_validator(
        "slack_support_channels", "slack_lead_user_ids", "web_allowed_origins", mode="before"
    )
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("web_api_key", "mcp_token")
    @classmethod
    def _long_api_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_CHARS:
            raise ValueError(f"must be at least {MIN_SECRET_CHARS} characters (a guessable key)")
        return value

    @field_validator("review_tokens")
    @classmethod
    def _long_review_tokens(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        short = sorted(n for n, t in value.items() if len(t.get_secret_value()) < MIN_SECRET_CHARS)
        if short:
            raise ValueError(
                f"tokens must be at least {MIN_SECRET_CHARS} characters; too short: "
                + ", ".join(short)
            )
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value
