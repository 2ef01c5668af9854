"""the hand-off's ticket on the exchange

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 09:45:00

A web hand-off can open a ticket in Zendesk, Jira, Linear or by e-mail; the exchange
keeps its reference (shown to the asker) and its URL (for the team).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("exchange") as batch:
        batch.add_column(
            sa.Column("ticket_ref", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True)
        )
        batch.add_column(
            sa.Column("ticket_url", sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("exchange") as batch:
        batch.drop_column("ticket_url")
        batch.drop_column("ticket_ref")
