"""Coaching: occupation on the user, reflections, learning loops and their steps.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("occupation_uri", sa.String(200), nullable=True))
        batch.add_column(sa.Column("occupation_label", sa.String(300), nullable=True))
    op.create_table(
        "reflections",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("occupation_uri", sa.String(200), nullable=True),
        sa.Column("occupation_label", sa.String(300), nullable=True),
        sa.Column("ratings", sa.JSON(), nullable=False),
        sa.Column("proud", sa.Text(), nullable=True),
        sa.Column("energy", sa.Text(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
    )
    op.create_table(
        "learning_loops",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("goal", sa.Text(), nullable=False),
        sa.Column("why", sa.Text(), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("activity", sa.String(16), nullable=False),
        sa.Column(
            "course_pk",
            sa.Integer(),
            sa.ForeignKey("courses.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("course_title", sa.String(300), nullable=True),
        sa.Column("apply_plan", sa.Text(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "active", "completed", "stopped", name="loopstatus", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("learned", sa.Text(), nullable=True),
        sa.Column("applied", sa.Text(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("completed_at", core.db.UTCDateTime(), nullable=True),
    )
    op.create_table(
        "loop_steps",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "loop_id",
            sa.Integer(),
            sa.ForeignKey("learning_loops.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(60), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("done_at", core.db.UTCDateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("loop_steps")
    op.drop_table("learning_loops")
    op.drop_table("reflections")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("occupation_label")
        batch.drop_column("occupation_uri")
