"""Foundation: users, organisations, conversation state.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "channel",
            sa.Enum("telegram", "console", name="channel", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=True),
        sa.Column(
            "role",
            sa.Enum("worker", "manager", "admin", name="role", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("consent_at", core.db.UTCDateTime(), nullable=True),
        sa.Column("region", sa.String(80), nullable=True),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("channel", "external_id", name="uq_users_channel_external"),
    )
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "employer", "institution", "admin", name="orgkind", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
    )
    op.create_table(
        "conversation_states",
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("conversation_states")
    op.drop_table("organisations")
    op.drop_table("users")
