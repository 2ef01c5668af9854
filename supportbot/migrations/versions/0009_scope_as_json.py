"""scope stored as JSON instead of a display label

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 23:45:00

Exchanges, questions and pairs stored their scope as the label people read
("product: Nimbus Hub · kind: manual") and code parsed it back. The column becomes
JSON ({"products": [...], "kinds": [...], "tags": [...]}); existing labels are converted.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("exchange", "qa_pair", "question")
_LABEL_FIELDS = {"product": "products", "kind": "kinds", "tags": "tags"}


def label_to_json(label: str | None) -> dict[str, list[str]] | None:
    """The old label's meaning as JSON (the parser this revision retires)."""
    values: dict[str, list[str]] = {}
    for part in (label or "").split(" · "):
        name, _, listed = part.partition(": ")
        key = _LABEL_FIELDS.get(name)
        if key and listed:
            values[key] = [v for v in listed.split(", ") if v]
    return values or None


def json_to_label(data: Any) -> str | None:
    if not isinstance(data, dict):
        return None
    parts = [
        f"{name}: {', '.join(data[key])}" for name, key in _LABEL_FIELDS.items() if data.get(key)
    ]
    return " · ".join(parts) or None


def _convert(table: str, old_type: Any, new_type: Any, convert: Any) -> None:
    with op.batch_alter_table(table) as batch:
        batch.add_column(sa.Column("scope_new", new_type, nullable=True))
    bind = op.get_bind()
    t = sa.table(table, sa.column("id", sa.Integer), sa.column("scope", old_type))
    rows = bind.execute(sa.select(t.c.id, t.c.scope).where(t.c.scope.is_not(None))).all()
    target = sa.table(table, sa.column("id", sa.Integer), sa.column("scope_new", new_type))
    converted = [{"row_id": row_id, "value": convert(value)} for row_id, value in rows]
    converted = [row for row in converted if row["value"] is not None]
    if converted:  # one executemany, not a statement per row
        bind.execute(
            target.update()
            .where(target.c.id == sa.bindparam("row_id"))
            .values(scope_new=sa.bindparam("value", type_=new_type)),
            converted,
        )
    with op.batch_alter_table(table) as batch:
        batch.drop_column("scope")
        batch.alter_column("scope_new", new_column_name="scope")


def upgrade() -> None:
    for table in TABLES:
        _convert(table, sa.String(length=255), sa.JSON(none_as_null=True), label_to_json)


def downgrade() -> None:
    for table in TABLES:
        _convert(table, sa.JSON(none_as_null=True), sa.String(length=255), json_to_label)
