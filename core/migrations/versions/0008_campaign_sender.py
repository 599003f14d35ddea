"""Campaigns remember the manager who sent them from Telegram, so that manager's "Wis alles"
removes them (privacy export and delete find every table with a key to users.id).

Revision ID: 0008_campaign_sender
Revises: 0007_places
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_campaign_sender"
down_revision = "0007_places"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("sender_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_campaigns_sender_id_users", "users", ["sender_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_index("ix_campaigns_sender_id", ["sender_id"])


def downgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_index("ix_campaigns_sender_id")
        batch.drop_constraint("fk_campaigns_sender_id_users", type_="foreignkey")
        batch.drop_column("sender_id")
