"""Knowledge base: courses, offerings, ESCO taxonomy, regulations, places, Leerwerkloketten.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "courses",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "provider_id",
            sa.Integer(),
            sa.ForeignKey("organisations.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("course_id", sa.String(100), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("level", sa.String(16), nullable=True),
        sa.Column("nlqf", sa.Integer(), nullable=True),
        sa.Column("format", sa.String(16), nullable=True),
        sa.Column("location", sa.String(100), nullable=False),
        sa.Column("region", sa.String(40), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=True),
        sa.Column("duration_hours", sa.Float(), nullable=True),
        sa.Column("url", sa.String(500), nullable=True),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("is_example", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("provider_id", "course_id", name="uq_courses_provider_id"),
    )
    op.create_table(
        "course_offerings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "course_pk",
            sa.Integer(),
            sa.ForeignKey("courses.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.UniqueConstraint("course_pk", "starts_on", name="uq_offering_start"),
    )
    op.create_table(
        "skills",
        sa.Column("uri", sa.String(200), primary_key=True),
        sa.Column("code", sa.String(16), nullable=False, index=True),
        sa.Column("label", sa.String(300), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("parent_uri", sa.String(200), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
    )
    op.create_table(
        "isco_groups",
        sa.Column("code", sa.String(8), primary_key=True),
        sa.Column("label", sa.String(300), nullable=False),
    )
    op.create_table(
        "occupations",
        sa.Column("uri", sa.String(200), primary_key=True),
        sa.Column("label", sa.String(300), nullable=False, index=True),
        sa.Column("alt_labels", sa.JSON(), nullable=False),
        sa.Column("isco_code", sa.String(8), nullable=False, index=True),
        sa.Column("description", sa.Text(), nullable=False),
    )
    op.create_table(
        "regulations",
        sa.Column("slug", sa.String(80), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("who", sa.Text(), nullable=False),
        sa.Column("amounts", sa.Text(), nullable=False),
        sa.Column("conditions", sa.Text(), nullable=False),
        sa.Column("how_to_apply", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("replaced_by", sa.JSON(), nullable=False),
        sa.Column("source_name", sa.String(300), nullable=False),
        sa.Column("source_url", sa.String(500), nullable=False),
        sa.Column("checked_on", sa.Date(), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(), nullable=False),
    )
    op.create_table(
        "places",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("province", sa.String(40), nullable=False),
        sa.Column("labour_market_region", sa.String(80), nullable=False, index=True),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
    )
    op.create_table(
        "leerwerkloketten",
        sa.Column("region", sa.String(80), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("main_place", sa.String(100), nullable=False),
        sa.Column("url", sa.String(300), nullable=False),
    )
    op.create_table(
        "kb_meta",
        sa.Column("key", sa.String(40), primary_key=True),
        sa.Column("value", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "kb_meta",
        "leerwerkloketten",
        "places",
        "regulations",
        "occupations",
        "isco_groups",
        "skills",
        "course_offerings",
        "courses",
    ):
        op.drop_table(table)
