"""Test databases: a migrated SQLite file, and a fresh PostgreSQL database per run, both with
the knowledge base seeded (as on a real first start).

Migrating and seeding a SQLite file takes about 1.4 s; a test that needs a fresh file gets a
copy of one made once per test run (about 10 ms), which is the same database byte for byte.
Tests of a first start on an empty database (the CLI, `leerloop run` in a process, the
migrations) still begin from nothing."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
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


_template: Path | None = None


async def _sqlite_template() -> Path:
    global _template
    if _template is None:
        folder = Path(tempfile.mkdtemp(prefix="leerloop-template-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        path = folder / "template.db"
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await _migrate_and_seed(engine)
        await engine.dispose()  # checkpoints the WAL: the one file holds everything
        _template = path
    return _template


async def seeded_sqlite(path: Path) -> str:
    """A migrated, seeded SQLite database at `path` (a copy of this run's template); its URL."""
    shutil.copyfile(await _sqlite_template(), path)
    return f"sqlite+aiosqlite:///{path}"


@asynccontextmanager
async def migrated_sqlite(directory: Path) -> AsyncIterator[str]:
    yield await seeded_sqlite(directory / "test.db")


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
