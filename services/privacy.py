"""Privacy (AVG/GDPR): what is stored about a user, export it, delete it.

Every table with a foreign key to `users.id` holds personal data; such tables are found from the
metadata, so later tables are exported and deleted without changes here.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import Column, Table, delete, func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Base
from core.models import User

logger = logging.getLogger(__name__)

EXPORT_FORMAT_VERSION = 1


def personal_tables() -> list[tuple[Table, Column[Any]]]:
    """Tables (in dependency order) with the column that points to `users.id`."""
    found: list[tuple[Table, Column[Any]]] = []
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == "users" and fk.column.name == "id":
                found.append((table, fk.parent))
                break
    return found


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bytes):
        return value.hex()
    return value


async def export_user_data(*, session: AsyncSession, user: User) -> dict[str, Any]:
    """Everything stored about `user`, as one JSON-ready document."""
    mapper = inspect(User)
    profile = {attr.key: _jsonable(getattr(user, attr.key)) for attr in mapper.column_attrs}
    tables: dict[str, list[dict[str, Any]]] = {}
    for table, column in personal_tables():
        rows = (await session.execute(select(table).where(column == user.id))).mappings().all()
        tables[table.name] = [{k: _jsonable(v) for k, v in row.items()} for row in rows]
    return {"format_version": EXPORT_FORMAT_VERSION, "user": profile, "data": tables}


async def delete_user_data(*, session: AsyncSession, user: User) -> int:
    """Delete the user and every row that points to them; return the number of rows deleted."""
    deleted = 0
    for table, column in reversed(personal_tables()):
        result = await session.execute(delete(table).where(column == user.id))
        deleted += max(result.rowcount, 0)  # type: ignore[attr-defined]
    await session.delete(user)
    await session.flush()
    logger.info("deleted user %s and %s related rows", user.id, deleted)
    return deleted + 1


async def count_user_rows(*, session: AsyncSession, user: User) -> int:
    """How many rows of personal data (besides the user row) are stored."""
    total = 0
    for table, column in personal_tables():
        total += (
            await session.scalar(select(func.count()).select_from(table).where(column == user.id))
            or 0
        )
    return total
