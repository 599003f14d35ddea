"""Money and time: earmark rules on credits, and when a nudge schedule was chosen.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("wallet_entries") as batch:
        batch.add_column(sa.Column("earmark_rule", sa.JSON(), nullable=True))
    with op.batch_alter_table("nudge_preferences") as batch:
        batch.add_column(sa.Column("schedule_from", core.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("nudge_preferences") as batch:
        batch.drop_column("schedule_from")
    with op.batch_alter_table("wallet_entries") as batch:
        batch.drop_column("earmark_rule")
