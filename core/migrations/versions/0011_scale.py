"""Scale out: outbox leases, the Telegram update inbox, shared rate limits.

Revision ID: 0011_scale
Revises: 0010_regulation_facts
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0011_scale"
down_revision = "0010_regulation_facts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(80), nullable=True))
        batch.add_column(sa.Column("lease_until", core.db.UTCDateTime(), nullable=True))
    op.create_index("ix_outbox_user_status", "outbox", ["user_id", "status"])
    op.create_table(
        "telegram_updates",
        sa.Column("update_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("chat_key", sa.String(40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "handled",
                "done",
                name="updatestatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("replies", sa.JSON(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(80), nullable=True),
        sa.Column("lease_until", core.db.UTCDateTime(), nullable=True),
        sa.Column("received_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("done_at", core.db.UTCDateTime(), nullable=True),
    )
    op.create_index(
        "ix_telegram_updates_open", "telegram_updates", ["status", "chat_key", "update_id"]
    )
    op.create_table(
        "shared_limits",
        sa.Column("key", sa.String(80), primary_key=True),
        sa.Column("tat", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("shared_limits")
    op.drop_index("ix_telegram_updates_open", table_name="telegram_updates")
    op.drop_table("telegram_updates")
    op.drop_index("ix_outbox_user_status", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("lease_owner")
