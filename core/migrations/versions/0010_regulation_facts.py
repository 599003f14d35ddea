"""Regulation facts: structured facts with their own provenance, a review date, age limits.

Revision ID: 0010_regulation_facts
Revises: 0009_portal
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_regulation_facts"
down_revision = "0009_portal"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("regulations") as batch:
        batch.add_column(sa.Column("facts", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("review_by", sa.Date(), nullable=True))
        batch.add_column(sa.Column("min_age", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("max_age", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("regulations") as batch:
        batch.drop_column("max_age")
        batch.drop_column("min_age")
        batch.drop_column("review_by")
        batch.drop_column("facts")
