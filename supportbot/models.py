"""SQLModel tables: the application's durable state.

Every schema change needs an Alembic migration in ``supportbot/migrations/versions``;
a test compares these models with the migrated schema on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

# Deterministic constraint names, so migrations can drop and alter them on every backend.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


MAX_ID = 2**63 - 1  # ids are 64-bit integers: a larger one is never ours (and overflows)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    PostgreSQL keeps the offset itself; SQLite stores naive text, so values are
    normalised to UTC on the way in and marked UTC on the way out.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: supportbot stores timezone-aware UTC times only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def _timestamp(**kwargs: Any) -> Any:
    """A timezone-aware timestamp column defaulting to now (UTC)."""
    return Field(default_factory=utcnow, sa_type=UTCDateTime, **kwargs)


def _optional_timestamp() -> Any:
    return Field(default=None, sa_type=UTCDateTime)


def _json(**kwargs: Any) -> Any:
    return Field(sa_type=sa.JSON, **kwargs)


def _enum(enum: type[StrEnum], **kwargs: Any) -> Any:
    # Stored as plain strings (not native PostgreSQL enums) so new values need no DDL.
    return Field(
        sa_type=sa.Enum(
            enum,
            native_enum=False,
            create_constraint=False,
            length=32,
            values_callable=lambda members: [member.value for member in members],
        ),
        **kwargs,
    )


class Surface(StrEnum):
    """Where an exchange happened."""

    SLACK = "slack"
    WEB = "web"
    CLI = "cli"


class Rating(StrEnum):
    UP = "up"
    DOWN = "down"


class PairStatus(StrEnum):
    CANDIDATE = "candidate"
    APPROVED = "approved"
    REJECTED = "rejected"


class PairKind(StrEnum):
    ANSWER = "answer"  # a question with an answer to curate
    GAP = "gap"  # a 👎 without a correction: the docs or the bot lack an answer


class PairOrigin(StrEnum):
    """Where a pair's answer came from, best first."""

    LEAD_CORRECTION = "lead_correction"
    USER_CORRECTION = "user_correction"
    THUMBS_UP = "thumbs_up"
    THUMBS_DOWN = "thumbs_down"
    IMPORTED = "imported"  # an existing FAQ or the shipped sample, via `pairs import`


class RunStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Exchange(SQLModel, table=True):
    """One question and the bot's answer to it."""

    id: int | None = Field(default=None, primary_key=True)
    surface: Surface = _enum(Surface, index=True)
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
    sources: list[dict[str, Any]] = _json(default_factory=list)
    context: list[dict[str, Any]] = _json(
        default_factory=list, description="the sources as the answering prompt showed them"
    )
    scope: str | None = Field(default=None, max_length=255)
    model_id: str | None = Field(default=None, max_length=255)
    latency_ms: int | None = None
    timings: dict[str, float] = _json(default_factory=dict)
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
    created_at: datetime = _timestamp(index=True)
    scrubbed_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, description="when retention scrubbed its raw text"
    )


class Feedback(SQLModel, table=True):
    """A rating of an exchange, with an optional reason and correction."""

    id: int | None = Field(default=None, primary_key=True)
    exchange_id: int = Field(foreign_key="exchange.id", index=True, ondelete="CASCADE")
    user_id: str | None = Field(default=None, max_length=255)
    rating: Rating = _enum(Rating)
    reason: str | None = Field(default=None, sa_type=sa.Text)
    correction: str | None = Field(default=None, sa_type=sa.Text)
    from_lead: bool = False
    created_at: datetime = _timestamp()
    scrubbed_at: datetime | None = _optional_timestamp()


class QAPair(SQLModel, table=True):
    """A question/answer pair harvested from exchanges and curated by leads."""

    __tablename__ = "qa_pair"
    __table_args__ = (
        # One pair per exchange: harvesting twice adds nothing.
        sa.UniqueConstraint("origin_exchange_id", name="uq_qa_pair_origin_exchange_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    question: str = Field(sa_type=sa.Text)
    answer: str = Field(sa_type=sa.Text)
    context: list[dict[str, Any]] = _json(default_factory=list)
    origin_exchange_id: int | None = Field(
        default=None, foreign_key="exchange.id", index=True, ondelete="SET NULL"
    )
    status: PairStatus = _enum(PairStatus, default=PairStatus.CANDIDATE, index=True)
    kind: PairKind = _enum(PairKind, default=PairKind.ANSWER, index=True)
    origin: PairOrigin = _enum(PairOrigin, default=PairOrigin.THUMBS_UP)
    bot_answer: str | None = Field(default=None, sa_type=sa.Text)
    comment: str | None = Field(default=None, sa_type=sa.Text)
    surface: str | None = Field(default=None, max_length=16)
    scope: str | None = Field(default=None, max_length=255)
    merged_exchange_ids: list[int] = _json(
        default_factory=list, description="near-duplicate questions folded into this pair"
    )
    edited_by: str | None = Field(default=None, max_length=255)
    decided_by: str | None = Field(default=None, max_length=255)
    decided_at: datetime | None = _optional_timestamp()
    test: bool = Field(default=False, description="in the frozen evaluation set: never trained on")
    critical: bool = Field(default=False, description="a candidate model must not get it wrong")
    reference_model: str | None = Field(
        default=None, max_length=255, description="the model whose own answer is the reference"
    )
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class PairEvent(SQLModel, table=True):
    """Append-only history of a pair: every decision and edit, who made it and when."""

    __tablename__ = "pair_event"

    id: int | None = Field(default=None, primary_key=True)
    pair_id: int = Field(foreign_key="qa_pair.id", index=True, ondelete="CASCADE")
    action: str = Field(max_length=32, description="created, edited, approved, rejected, …")
    actor: str = Field(max_length=255)
    changes: dict[str, Any] = _json(default_factory=dict, description="field → [before, after]")
    note: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = _timestamp()


class PrivacyAction(SQLModel, table=True):
    """That personal data was forgotten or expired: what kind of selector, how much was
    removed, by whom. Never the data or the selector's value."""

    __tablename__ = "privacy_action"

    id: int | None = Field(default=None, primary_key=True)
    action: str = Field(max_length=16, description="forget or retention")
    selector: str = Field(max_length=32, description="slack-user, conversation, email or age")
    counts: dict[str, int] = _json(default_factory=dict)
    requested_by: str = Field(max_length=255)
    created_at: datetime = _timestamp()


class Dataset(SQLModel, table=True):
    """An exported, versioned training set."""

    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(max_length=64, unique=True)
    train_path: str = Field(max_length=1024)
    eval_path: str = Field(max_length=1024)
    train_count: int = 0
    eval_count: int = 0
    split: dict[str, Any] = _json(default_factory=dict)
    created_at: datetime = _timestamp()


class TrainingRun(SQLModel, table=True):
    __tablename__ = "training_run"

    id: int | None = Field(default=None, primary_key=True)
    backend: str = Field(max_length=32)
    base_model: str = Field(max_length=255)
    dataset_id: int | None = Field(default=None, foreign_key="dataset.id", ondelete="SET NULL")
    status: RunStatus = _enum(RunStatus, default=RunStatus.PENDING, index=True)
    external_id: str | None = Field(default=None, max_length=255)
    hyperparameters: dict[str, Any] = _json(default_factory=dict)
    metrics: dict[str, Any] = _json(default_factory=dict)
    error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = _timestamp()
    started_at: datetime | None = _optional_timestamp()
    finished_at: datetime | None = _optional_timestamp()


class ModelVersion(SQLModel, table=True):
    """A model the bot can answer with; exactly one is active at a time."""

    __tablename__ = "model_version"
    __table_args__ = (
        # At most one active model, enforced by the database on both backends.
        sa.Index(
            "uq_model_version_single_active",
            "is_active",
            unique=True,
            sqlite_where=sa.text("is_active"),
            postgresql_where=sa.text("is_active"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    model_id: str = Field(max_length=255, unique=True)
    backend: str = Field(max_length=32)
    training_run_id: int | None = Field(
        default=None, foreign_key="training_run.id", ondelete="SET NULL"
    )
    is_active: bool = False
    eval_scores: dict[str, Any] = _json(default_factory=dict)
    created_at: datetime = _timestamp()
    promoted_at: datetime | None = _optional_timestamp()


class ModelChange(SQLModel, table=True):
    """Every promotion and rollback: which model went live, which it replaced, who did it."""

    __tablename__ = "model_change"

    id: int | None = Field(default=None, primary_key=True)
    action: str = Field(max_length=16, description="promote or rollback")
    model_id: str | None = Field(default=None, max_length=255, description="None: base model")
    previous_model_id: str | None = Field(default=None, max_length=255)
    changed_by: str = Field(max_length=255)
    reason: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = _timestamp(index=True)


class JobRun(SQLModel, table=True):
    """One run of a scheduled job (by the scheduler or `supportbot jobs run`)."""

    __tablename__ = "job_run"

    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(max_length=128, index=True)
    status: str = Field(max_length=16, description="running, succeeded, failed or skipped")
    trigger: str = Field(default="schedule", max_length=16, description="schedule or manual")
    runner: str = Field(max_length=255, description="host:pid of the process that ran it")
    result: str | None = Field(default=None, sa_type=sa.Text)
    error: str | None = Field(default=None, sa_type=sa.Text)
    started_at: datetime = _timestamp(index=True)
    finished_at: datetime | None = _optional_timestamp()


class Lease(SQLModel, table=True):
    """A named lock with an expiry: who leads the scheduler on SQLite, and which process
    is running a job (so a job never overlaps itself, even across processes)."""

    __tablename__ = "lease"

    name: str = Field(primary_key=True, max_length=128)
    holder: str = Field(max_length=255)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class SyncRun(SQLModel, table=True):
    """One sync of one knowledge source, with what it changed."""

    __tablename__ = "sync_run"

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=255, index=True)
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    failed: int = 0
    chunks_embedded: int = 0
    errors: list[dict[str, Any]] = _json(default_factory=list)
    started_at: datetime = _timestamp()
    duration_s: float | None = None


class SlackEvent(SQLModel, table=True):
    """Slack event ids already handled: Slack retries deliveries, we answer once."""

    __tablename__ = "slack_event"

    event_id: str = Field(primary_key=True, max_length=64)
    received_at: datetime = _timestamp()


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
    surface: Surface = _enum(Surface)
    state: QuestionState = _enum(QuestionState, default=QuestionState.RECEIVED, index=True)
    owner: str | None = Field(default=None, max_length=128, description="the replica on it")
    attempts: int = 0
    text: str = Field(sa_type=sa.Text)
    conversation_id: str | None = Field(default=None, max_length=255)
    channel_id: str | None = Field(default=None, max_length=64)
    thread_ts: str | None = Field(default=None, max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)
    user_id: str | None = Field(default=None, max_length=255)
    team_id: str | None = Field(default=None, max_length=64)
    scope: str | None = Field(default=None, max_length=255)
    scope_chosen: bool = False
    follow_up: bool = False
    reply_ts: str | None = Field(
        default=None, max_length=32, description="the answer message, once one was started"
    )
    exchange_id: int | None = Field(default=None, foreign_key="exchange.id", ondelete="SET NULL")
    error: str | None = Field(default=None, sa_type=sa.Text)
    received_at: datetime = _timestamp(index=True)
    updated_at: datetime = _timestamp()


class Replica(SQLModel, table=True):
    """A running server process; its heartbeat says its questions are in hand."""

    __tablename__ = "replica"

    id: str = Field(primary_key=True, max_length=128)
    started_at: datetime = _timestamp()
    heartbeat_at: datetime = _timestamp()
    stopped_at: datetime | None = _optional_timestamp()


class ChannelSetting(SQLModel, table=True):
    """Per-channel overrides a support lead set in Slack; unset fields fall back to config."""

    __tablename__ = "channel_setting"

    channel_id: str = Field(primary_key=True, max_length=64)
    auto_answer: bool | None = None
    kinds: list[str] | None = Field(default=None, sa_type=sa.JSON)
    tags: list[str] | None = Field(default=None, sa_type=sa.JSON)
    products: list[str] | None = Field(default=None, sa_type=sa.JSON)
    updated_by: str | None = Field(default=None, max_length=255)
    updated_at: datetime = _timestamp()


class HarvestRun(SQLModel, table=True):
    """One harvest: up to which feedback it read, and what it made of it."""

    __tablename__ = "harvest_run"

    id: int | None = Field(default=None, primary_key=True)
    last_feedback_id: int = 0
    candidates: int = 0
    gaps: int = 0
    merged: int = 0
    skipped: int = 0
    started_at: datetime = _timestamp()
