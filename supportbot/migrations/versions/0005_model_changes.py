"""model changes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 07:43:32.257501
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "model_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("model_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("previous_model_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("changed_by", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_change")),
    )
    with op.batch_alter_table("model_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_model_change_created_at"), ["created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("model_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_change_created_at"))

    op.drop_table("model_change")
