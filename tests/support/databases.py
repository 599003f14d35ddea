"""Test databases: a migrated SQLite file, and a fresh PostgreSQL database per run, both with
the knowledge base seeded (as on a real first start)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import create_engine, session_factory, upgrade
from knowledge import seed_knowledge

POSTGRES_ENV = "TEST_POSTGRES_URL"


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


# Parameters for fixtures that run a test once per database.
DATABASES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=pytest.mark.skipif(postgres_url() is None, reason="TEST_POSTGRES_URL is not set"),
    ),
]


async def _migrate_and_seed(engine: AsyncEngine) -> None:
    await upgrade(engine)
    async with session_factory(engine)() as session, session.begin():
        await seed_knowledge(session)


@asynccontextmanager
async def migrated_sqlite(directory: Path) -> AsyncIterator[str]:
    url = f"sqlite+aiosqlite:///{directory / 'test.db'}"
    engine = create_engine(url)
    await _migrate_and_seed(engine)
    await engine.dispose()
    yield url


@asynccontextmanager
async def migrated_postgres(server_url: str) -> AsyncIterator[str]:
    """Create a throw-away database on the server, migrate it, drop it afterwards."""
    base = make_url(server_url).set(drivername="postgresql+asyncpg")
    name = f"leerloop_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        await _migrate_and_seed(engine)
        await engine.dispose()
        yield url
    finally:
        await engine.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def table_counts(engine: AsyncEngine) -> dict[str, int]:
    from core.db import Base

    counts: dict[str, int] = {}
    async with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            result = await conn.execute(text(f"SELECT COUNT(*) FROM {table.name}"))  # noqa: S608
            counts[table.name] = int(result.scalar_one())
    return counts
