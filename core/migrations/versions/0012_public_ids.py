"""Teams and team messages get public ids (`tm_…`, `cp_…`): the API and the portal show those,
never the row ids, so nobody can count or guess another employer's teams.

Revision ID: 0012_public_ids
Revises: 0011_scale
Create Date: 2026-12-02
"""

from __future__ import annotations

import secrets
import string

import sqlalchemy as sa
from alembic import op

revision = "0012_public_ids"
down_revision = "0011_scale"
branch_labels = None
depends_on = None

_TABLES = {"teams": "tm_", "campaigns": "cp_"}
_ALPHABET = string.ascii_lowercase + string.digits


def _new(prefix: str) -> str:  # as core.models.new_public_id, frozen here with the migration
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(16))


def upgrade() -> None:
    bind = op.get_bind()
    for table, prefix in _TABLES.items():
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("public_id", sa.String(24), nullable=True))
        rows = sa.table(table, sa.column("id", sa.Integer), sa.column("public_id", sa.String))
        ids = [row.id for row in bind.execute(sa.select(rows.c.id))]
        for row_id in ids:
            bind.execute(rows.update().where(rows.c.id == row_id).values(public_id=_new(prefix)))
        with op.batch_alter_table(table) as batch:
            batch.alter_column("public_id", existing_type=sa.String(24), nullable=False)
            batch.create_index(f"ix_{table}_public_id", ["public_id"], unique=True)


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_public_id")
            batch.drop_column("public_id")
