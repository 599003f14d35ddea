"""Shared fixtures.

Database tests use the `db_url` / `sessions` fixtures: they run once on SQLite and once on
PostgreSQL when TEST_POSTGRES_URL is set. Each test runs inside a transaction that is rolled
back afterwards (SQLAlchemy's "join into an external transaction" recipe with savepoints).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import actions  # noqa: F401  (registers the actions)
from bot._interpreter import NluInterpreter
from core.db import create_engine
from core.settings import Settings
from dialogues import DialogueManager
from tests.support import FakeTelegram
from tests.support.databases import DATABASES, migrated_postgres, migrated_sqlite, postgres_url


@pytest.fixture(scope="session", params=DATABASES)
async def db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    if request.param == "sqlite":
        async with migrated_sqlite(tmp_path_factory.mktemp("sqlite")) as url:
            yield url
    else:
        server = postgres_url()
        assert server is not None
        async with migrated_postgres(server) as url:
            yield url


@pytest.fixture(scope="session")
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def sessions(engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A session factory whose every commit lands in a SAVEPOINT of a rolled-back transaction."""
    async with engine.connect() as conn:
        outer = await conn.begin()
        yield async_sessionmaker(
            bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        if outer.is_active:
            await outer.rollback()


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(
        DATABASE_URL=db_url, LEERLOOP_EXPORT_DIR=str(tmp_path / "exports"), _env_file=None
    )


@pytest.fixture
def dialogue(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> DialogueManager:
    return DialogueManager(sessions=sessions, settings=settings)


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    """The fake Bot API on 127.0.0.1, for the channel and e2e tests."""
    fake = await FakeTelegram().start()
    yield fake
    await fake.stop()


@pytest.fixture(scope="session")
def interpreter() -> NluInterpreter:
    """The trained NLU model as the dialogue's interpreter (loaded once per test run)."""
    return NluInterpreter.load()


@pytest.fixture(autouse=True)
def _no_env_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never read a developer's `.env` or write into the repository's var/."""
    monkeypatch.chdir(tmp_path)
