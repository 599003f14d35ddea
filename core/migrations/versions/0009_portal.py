"""Web portal: one-time sign-in links and browser sessions (hashes only).

Revision ID: 0009_portal
Revises: 0008_campaign_sender
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0009_portal"
down_revision = "0008_campaign_sender"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_links",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "org_id",
            sa.Integer(),
            sa.ForeignKey("organisations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("used_at", core.db.UTCDateTime(), nullable=True),
    )
    op.create_index("ix_portal_links_org_id", "portal_links", ["org_id"])
    op.create_table(
        "portal_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "org_id",
            sa.Integer(),
            sa.ForeignKey("organisations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("ended_at", core.db.UTCDateTime(), nullable=True),
    )
    op.create_index("ix_portal_sessions_org_id", "portal_sessions", ["org_id"])


def downgrade() -> None:
    op.drop_index("ix_portal_sessions_org_id", "portal_sessions")
    op.drop_table("portal_sessions")
    op.drop_index("ix_portal_links_org_id", "portal_links")
    op.drop_table("portal_links")
