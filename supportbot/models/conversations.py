"""Questions, answers and ratings: what people asked and how it went."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from supportbot.models.columns import (
    UTCDateTime,
    enum_field,
    json_field,
    optional_timestamp,
    scope_json,
    timestamp,
)


class Surface(StrEnum):
    """Where an exchange happened."""

    SLACK = "slack"
    WEB = "web"
    CLI = "cli"
    MCP = "mcp"  # an AI tool through `supportbot mcp`


class Rating(StrEnum):
    UP = "up"
    DOWN = "down"


class Exchange(SQLModel, table=True):
    """One question and the bot's answer to it."""

    id: int | None = Field(default=None, primary_key=True)
    surface: Surface = enum_field(Surface, index=True)
    conversation_id: str | None = Field(
        default=None, max_length=255, index=True, description="Slack thread or web conversation"
    )
    channel_id: str | None = Field(default=None, max_length=64)
    thread_ts: str | None = Field(default=None, max_length=32)
    message_ts: str | None = Field(default=None, max_length=32, description="the question's ts")
    reply_ts: str | None = Field(
        default=None, max_length=32, index=True, description="the bot's answer message ts"
    )
    user_id: str | None = Field(default=None, max_length=255)
    question: str = Field(sa_type=sa.Text)
    answer: str = Field(default="", sa_type=sa.Text)
    sources: list[dict[str, Any]] = json_field(default_factory=list)
    context: list[dict[str, Any]] = json_field(
        default_factory=list, description="the sources as the answering prompt showed them"
    )
    scope: dict[str, Any] | None = scope_json()
    model_id: str | None = Field(default=None, max_length=255)
    latency_ms: int | None = None
    timings: dict[str, float] = json_field(default_factory=dict)
    answer_mode: str | None = Field(default=None, max_length=16)
    abstained: bool = False
    escalated: bool = False
    error: str | None = Field(default=None, sa_type=sa.Text)
    team_id: str | None = Field(
        default=None, max_length=64, description="the asker's Slack team (Slack Connect)"
    )
    contact: str | None = Field(
        default=None, max_length=255, description="how a web visitor asked to be reached"
    )
    ticket_ref: str | None = Field(
        default=None, max_length=255, description="the hand-off's ticket (#35436, SUP-12…)"
    )
    ticket_url: str | None = Field(
        default=None, max_length=1024, description="where the team opens that ticket"
    )
    created_at: datetime = timestamp(index=True)
    scrubbed_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, description="when retention scrubbed its raw text"
    )


class Feedback(SQLModel, table=True):
    """A rating of an exchange, with an optional reason and correction."""

    id: int | None = Field(default=None, primary_key=True)
    exchange_id: int = Field(foreign_key="exchange.id", index=True, ondelete="CASCADE")
    user_id: str | None = Field(default=None, max_length=255)
    rating: Rating = enum_field(Rating)
    reason: str | None = Field(default=None, sa_type=sa.Text)
    correction: str | None = Field(default=None, sa_type=sa.Text)
    from_lead: bool = False
    created_at: datetime = timestamp()
    scrubbed_at: datetime | None = optional_timestamp()


class QuestionState(StrEnum):
    """A question's life: received → answering → answered, handed off or failed."""

    RECEIVED = "received"
    ANSWERING = "answering"
    ANSWERED = "answered"
    HANDED_OFF = "handed_off"
    FAILED = "failed"
    ABANDONED = "abandoned"  # the web client went away mid-answer
    WAITING = "waiting"  # the bot asked something back (which product?)

    @classmethod
    def open(cls) -> tuple[QuestionState, ...]:
        """States a dead process can leave a question in: someone must finish it."""
        return (cls.RECEIVED, cls.ANSWERING)


class QuestionRecord(SQLModel, table=True):
    """A question from the moment it is heard until it has an ending, so a restart or
    a dead replica never loses one: another process resumes what its owner left."""

    __tablename__ = "question"

    id: int | None = Field(default=None, primary_key=True)
    surface: Surface = enum_field(Surface)
    state: QuestionState = enum_field(QuestionState, default=QuestionState.RECEIVED, index=True)
    owner: str | None = Field(default=None, max_length=128, description="the replica on it")
    attempts: int = 0
    text: str = Field(sa_type=sa.Text)
    conversation_id: str | None = Field(default=None, max_length=255)
    channel_id: str | None = Field(default=None, max_length=64)
    thread_ts: str | None = Field(default=None, max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)
    user_id: str | None = Field(default=None, max_length=255)
    team_id: str | None = Field(default=None, max_length=64)
    scope: dict[str, Any] | None = scope_json()
    scope_chosen: bool = False
    follow_up: bool = False
    reply_ts: str | None = Field(
        default=None, max_length=32, description="the answer message, once one was started"
    )
    exchange_id: int | None = Field(default=None, foreign_key="exchange.id", ondelete="SET NULL")
    error: str | None = Field(default=None, sa_type=sa.Text)
    received_at: datetime = timestamp(index=True)
    updated_at: datetime = timestamp()


class SlackEvent(SQLModel, table=True):
    """Slack event ids already handled: Slack retries deliveries, we answer once."""

    __tablename__ = "slack_event"

    event_id: str = Field(primary_key=True, max_length=64)
    received_at: datetime = timestamp()


class ChannelSetting(SQLModel, table=True):
    """Per-channel overrides a support lead set in Slack; unset fields fall back to config."""

    __tablename__ = "channel_setting"

    channel_id: str = Field(primary_key=True, max_length=64)
    auto_answer: bool | None = None
    kinds: list[str] | None = Field(default=None, sa_type=sa.JSON)
    tags: list[str] | None = Field(default=None, sa_type=sa.JSON)
    products: list[str] | None = Field(default=None, sa_type=sa.JSON)
    updated_by: str | None = Field(default=None, max_length=255)
    updated_at: datetime = timestamp()
