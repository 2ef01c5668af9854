"""question life and replicas, exchange team and contact

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 19:38:54.061793
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "replica",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replica")),
    )
    op.create_table(
        "question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "surface",
            sa.Enum("slack", "web", "cli", name="surface", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "state",
            sa.Enum(
                "received",
                "answering",
                "answered",
                "handed_off",
                "failed",
                "abandoned",
                "waiting",
                name="questionstate",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("conversation_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("thread_ts", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("message_ts", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("scope_chosen", sa.Boolean(), nullable=False),
        sa.Column("follow_up", sa.Boolean(), nullable=False),
        sa.Column("reply_ts", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("exchange_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["exchange_id"],
            ["exchange.id"],
            name=op.f("fk_question_exchange_id_exchange"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question")),
    )
    with op.batch_alter_table("question", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_question_received_at"), ["received_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_question_state"), ["state"], unique=False)

    with op.batch_alter_table("exchange", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(
            sa.Column("contact", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True)
        )


def downgrade() -> None:

    with op.batch_alter_table("exchange", schema=None) as batch_op:
        batch_op.drop_column("contact")
        batch_op.drop_column("team_id")

    with op.batch_alter_table("question", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_question_state"))
        batch_op.drop_index(batch_op.f("ix_question_received_at"))

    op.drop_table("question")
    op.drop_table("replica")
