"""Column helpers every table uses: UTC timestamps, JSON, enums as strings, id bounds."""

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


def timestamp(**kwargs: Any) -> Any:
    """A timezone-aware timestamp column defaulting to now (UTC)."""
    return Field(default_factory=utcnow, sa_type=UTCDateTime, **kwargs)


def optional_timestamp() -> Any:
    return Field(default=None, sa_type=UTCDateTime)


def json_field(**kwargs: Any) -> Any:
    return Field(sa_type=sa.JSON, **kwargs)


def scope_json() -> Any:
    # A knowledge.scope.Scope as JSON ({"products": [...], "kinds": [...], "tags": [...]});
    # no scope is SQL NULL, not JSON null, so "is not None" queries find scoped rows.
    return Field(default=None, sa_type=sa.JSON(none_as_null=True))


def enum_field(enum: type[StrEnum], **kwargs: Any) -> Any:
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
