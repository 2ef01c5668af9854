"""harvest: pair kinds and origins, exchange context, harvest runs

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 07:25:11.268007
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "harvest_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_feedback_id", sa.Integer(), nullable=False),
        sa.Column("candidates", sa.Integer(), nullable=False),
        sa.Column("gaps", sa.Integer(), nullable=False),
        sa.Column("merged", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harvest_run")),
    )
    with op.batch_alter_table("exchange", schema=None) as batch_op:
        batch_op.add_column(sa.Column("context", sa.JSON(), nullable=False, server_default="[]"))

    with op.batch_alter_table("qa_pair", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                sa.Enum("answer", "gap", name="pairkind", native_enum=False, length=32),
                nullable=False,
                server_default="answer",
            )
        )
        batch_op.add_column(
            sa.Column(
                "origin",
                sa.Enum(
                    "lead_correction",
                    "user_correction",
                    "thumbs_up",
                    "thumbs_down",
                    name="pairorigin",
                    native_enum=False,
                    length=32,
                ),
                nullable=False,
                server_default="thumbs_up",
            )
        )
        batch_op.add_column(sa.Column("bot_answer", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("comment", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("surface", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )
        batch_op.add_column(
            sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True)
        )
        batch_op.add_column(
            sa.Column("merged_exchange_ids", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.create_index(batch_op.f("ix_qa_pair_kind"), ["kind"], unique=False)
        batch_op.create_unique_constraint("uq_qa_pair_origin_exchange_id", ["origin_exchange_id"])


def downgrade() -> None:
    with op.batch_alter_table("qa_pair", schema=None) as batch_op:
        batch_op.drop_constraint("uq_qa_pair_origin_exchange_id", type_="unique")
        batch_op.drop_index(batch_op.f("ix_qa_pair_kind"))
        batch_op.drop_column("merged_exchange_ids")
        batch_op.drop_column("scope")
        batch_op.drop_column("surface")
        batch_op.drop_column("comment")
        batch_op.drop_column("bot_answer")
        batch_op.drop_column("origin")
        batch_op.drop_column("kind")

    with op.batch_alter_table("exchange", schema=None) as batch_op:
        batch_op.drop_column("context")

    op.drop_table("harvest_run")
