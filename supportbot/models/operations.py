"""Running the service: sync runs, scheduled jobs, leases, replicas, privacy actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from supportbot.models.columns import UTCDateTime, json_field, optional_timestamp, timestamp


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
    errors: list[dict[str, Any]] = json_field(default_factory=list)
    started_at: datetime = timestamp()
    duration_s: float | None = None


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
    started_at: datetime = timestamp(index=True)
    finished_at: datetime | None = optional_timestamp()


class Lease(SQLModel, table=True):
    """A named lock with an expiry: who leads the scheduler on SQLite, and which process
    is running a job (so a job never overlaps itself, even across processes)."""

    __tablename__ = "lease"

    name: str = Field(primary_key=True, max_length=128)
    holder: str = Field(max_length=255)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class Replica(SQLModel, table=True):
    """A running server process; its heartbeat says its questions are in hand."""

    __tablename__ = "replica"

    id: str = Field(primary_key=True, max_length=128)
    started_at: datetime = timestamp()
    heartbeat_at: datetime = timestamp()
    stopped_at: datetime | None = optional_timestamp()


class PrivacyAction(SQLModel, table=True):
    """That personal data was forgotten or expired: what kind of selector, how much was
    removed, by whom. Never the data or the selector's value."""

    __tablename__ = "privacy_action"

    id: int | None = Field(default=None, primary_key=True)
    action: str = Field(max_length=16, description="forget or retention")
    selector: str = Field(max_length=32, description="slack-user, conversation, email or age")
    counts: dict[str, int] = json_field(default_factory=dict)
    requested_by: str = Field(max_length=255)
    created_at: datetime = timestamp()
