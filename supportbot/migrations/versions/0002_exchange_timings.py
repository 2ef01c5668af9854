"""exchange timings and answer mode

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 04:50:12.498349
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("exchange", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timings", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(
            sa.Column("answer_mode", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("exchange", schema=None) as batch_op:
        batch_op.drop_column("answer_mode")
        batch_op.drop_column("timings")
