"""The learning loop: Q&A pairs, datasets, training runs and the models they made."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from supportbot.models.columns import (
    enum_field,
    json_field,
    optional_timestamp,
    scope_json,
    timestamp,
)


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
    context: list[dict[str, Any]] = json_field(default_factory=list)
    origin_exchange_id: int | None = Field(
        default=None, foreign_key="exchange.id", index=True, ondelete="SET NULL"
    )
    status: PairStatus = enum_field(PairStatus, default=PairStatus.CANDIDATE, index=True)
    kind: PairKind = enum_field(PairKind, default=PairKind.ANSWER, index=True)
    origin: PairOrigin = enum_field(PairOrigin, default=PairOrigin.THUMBS_UP)
    bot_answer: str | None = Field(default=None, sa_type=sa.Text)
    comment: str | None = Field(default=None, sa_type=sa.Text)
    surface: str | None = Field(default=None, max_length=16)
    scope: dict[str, Any] | None = scope_json()
    merged_exchange_ids: list[int] = json_field(
        default_factory=list, description="near-duplicate questions folded into this pair"
    )
    edited_by: str | None = Field(default=None, max_length=255)
    decided_by: str | None = Field(default=None, max_length=255)
    decided_at: datetime | None = optional_timestamp()
    test: bool = Field(default=False, description="in the frozen evaluation set: never trained on")
    critical: bool = Field(default=False, description="a candidate model must not get it wrong")
    reference_model: str | None = Field(
        default=None, max_length=255, description="the model whose own answer is the reference"
    )
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()


class PairEvent(SQLModel, table=True):
    """Append-only history of a pair: every decision and edit, who made it and when."""

    __tablename__ = "pair_event"

    id: int | None = Field(default=None, primary_key=True)
    pair_id: int = Field(foreign_key="qa_pair.id", index=True, ondelete="CASCADE")
    action: str = Field(max_length=32, description="created, edited, approved, rejected, …")
    actor: str = Field(max_length=255)
    changes: dict[str, Any] = json_field(
        default_factory=dict, description="field → [before, after]"
    )
    note: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = timestamp()


class Dataset(SQLModel, table=True):
    """An exported, versioned training set."""

    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(max_length=64, unique=True)
    train_path: str = Field(max_length=1024)
    eval_path: str = Field(max_length=1024)
    train_count: int = 0
    eval_count: int = 0
    split: dict[str, Any] = json_field(default_factory=dict)
    created_at: datetime = timestamp()


class TrainingRun(SQLModel, table=True):
    __tablename__ = "training_run"

    id: int | None = Field(default=None, primary_key=True)
    backend: str = Field(max_length=32)
    base_model: str = Field(max_length=255)
    dataset_id: int | None = Field(default=None, foreign_key="dataset.id", ondelete="SET NULL")
    status: RunStatus = enum_field(RunStatus, default=RunStatus.PENDING, index=True)
    external_id: str | None = Field(default=None, max_length=255)
    hyperparameters: dict[str, Any] = json_field(default_factory=dict)
    metrics: dict[str, Any] = json_field(default_factory=dict)
    error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = timestamp()
    started_at: datetime | None = optional_timestamp()
    finished_at: datetime | None = optional_timestamp()


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
    eval_scores: dict[str, Any] = json_field(default_factory=dict)
    created_at: datetime = timestamp()
    promoted_at: datetime | None = optional_timestamp()


class ModelChange(SQLModel, table=True):
    """Every promotion and rollback: which model went live, which it replaced, who did it."""

    __tablename__ = "model_change"

    id: int | None = Field(default=None, primary_key=True)
    action: str = Field(max_length=16, description="promote or rollback")
    model_id: str | None = Field(default=None, max_length=255, description="None: base model")
    previous_model_id: str | None = Field(default=None, max_length=255)
    changed_by: str = Field(max_length=255)
    reason: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = timestamp(index=True)


class HarvestRun(SQLModel, table=True):
    """One harvest: up to which feedback it read, and what it made of it."""

    __tablename__ = "harvest_run"

    id: int | None = Field(default=None, primary_key=True)
    last_feedback_id: int = 0
    candidates: int = 0
    gaps: int = 0
    merged: int = 0
    skipped: int = 0
    started_at: datetime = timestamp()
