"""slack reply ts and channel settings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 06:01:38.379642
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_setting",
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("auto_answer", sa.Boolean(), nullable=True),
        sa.Column("kinds", sa.JSON(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=True),
        sa.Column("products", sa.JSON(), nullable=True),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_channel_setting")),
    )
    with op.batch_alter_table("exchange", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reply_ts", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_exchange_reply_ts"), ["reply_ts"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("exchange", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_reply_ts"))
        batch_op.drop_column("reply_ts")

    op.drop_table("channel_setting")
