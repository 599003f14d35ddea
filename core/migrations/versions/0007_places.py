"""Every Dutch place: residences, municipalities, regions and provinces with a lookup key.

The seed (knowledge/seed.py) fills the new table from knowledge/data/places_nl.csv on the next
start; courses name their place as text, so nothing else changes.

Revision ID: 0007_places
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_places"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("places")
    op.create_table(
        "places",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(100), nullable=False, index=True),
        sa.Column("name", sa.String(100), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("municipality", sa.String(100), nullable=False),
        sa.Column("province", sa.String(40), nullable=False),
        sa.Column("labour_market_region", sa.String(80), nullable=False, index=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("needs_cue", sa.Boolean(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("places")
    op.create_table(
        "places",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("province", sa.String(40), nullable=False),
        sa.Column("labour_market_region", sa.String(80), nullable=False, index=True),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
    )
