"""privacy and curation history: retention marks, forget records, pair history, test pairs

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pair_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pair_id"],
            ["qa_pair.id"],
            name=op.f("fk_pair_event_pair_id_qa_pair"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pair_event")),
    )
    with op.batch_alter_table("pair_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pair_event_pair_id"), ["pair_id"], unique=False)

    op.create_table(
        "privacy_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("selector", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_action")),
    )
    with op.batch_alter_table("exchange", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scrubbed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scrubbed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("qa_pair", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("test", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("critical", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column(
                "reference_model", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("qa_pair", schema=None) as batch_op:
        batch_op.drop_column("reference_model")
        batch_op.drop_column("critical")
        batch_op.drop_column("test")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_column("scrubbed_at")
    with op.batch_alter_table("exchange", schema=None) as batch_op:
        batch_op.drop_column("scrubbed_at")
    op.drop_table("privacy_action")
    with op.batch_alter_table("pair_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pair_event_pair_id"))
    op.drop_table("pair_event")
