"""Database engine, sessions and migrations (async SQLAlchemy 2.0; SQLite and PostgreSQL)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import DateTime, event
from sqlalchemy.engine import URL, Connection, Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.types import TypeDecorator

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored as UTC; SQLite gives it back aware as well."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass a timezone-aware value")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""


# SQLite, the embedded default, holds up under load like this:
# - WAL: readers never wait for the writer, nor the writer for readers.
# - Writes are serialised inside the process by a pool of one connection (a fair queue in the
#   event loop; waiting there never ends in "database is locked"). Each write transaction is
#   BEGIN IMMEDIATE, so it never has to upgrade a read lock (which WAL can refuse at once);
#   another process (the CLI) waits for it through busy_timeout.
# - Read-only work (search index rebuilds, GET requests) runs on a second engine whose
#   transactions are plain deferred BEGINs with query_only on: they take no write lock at all.
_SQLITE_BUSY_MS = 30_000
_SQLITE_WRITE_QUEUE_S = 120


def _sqlite_file(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")


def _sqlite_engine(url: URL, *, read_only: bool, **kwargs: Any) -> AsyncEngine:
    if _sqlite_file(url):
        assert url.database is not None
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        if not read_only:
            kwargs.setdefault("poolclass", AsyncAdaptedQueuePool)
            kwargs.setdefault("pool_size", 1)
            kwargs.setdefault("max_overflow", 0)
            kwargs.setdefault("pool_timeout", _SQLITE_WRITE_QUEUE_S)
    engine = create_async_engine(url, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, open transactions, so SAVEPOINTs work.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # busy_timeout first: switching to WAL needs a lock another process may hold.
        cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        if read_only:
            cursor.execute("PRAGMA query_only=ON")
        else:
            cursor.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL survives a crash of the process without loss or corruption;
            # only a power cut may lose the last commits. FULL synced the disk on every
            # commit, which was most of the time of a turn.
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _sqlite_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def create_engine(database_url: str, **kwargs: Any) -> AsyncEngine:
    """Create the async engine; for SQLite make the folder, enforce foreign keys, use WAL and
    serialise writers (see above)."""
    url = make_url(database_url)
    # Bound values are what people typed: never in a log line or an exception message.
    kwargs.setdefault("hide_parameters", True)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, read_only=False, **kwargs)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def create_read_engine(database_url: str) -> AsyncEngine | None:
    """For a SQLite file: an engine for read-only transactions, which take no write lock.

    None elsewhere: PostgreSQL's reads take no lock anyway, and an in-memory SQLite database
    exists only on its one connection."""
    url = make_url(database_url)
    if not _sqlite_file(url):
        return None
    return _sqlite_engine(url, read_only=True)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def _alembic_config(connection: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def _sqlite_pragma(connection: Connection, pragma: str) -> None:
    """A pragma outside any transaction: on the driver's connection, which SQLAlchemy's "begin"
    event above does not see (a pragma like foreign_keys is ignored inside a transaction)."""
    cursor = connection.connection.cursor()
    cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _migrate(connection: Connection, run: Callable[[Config], None]) -> None:
    """Run Alembic on `connection` in one transaction.

    SQLite changes a table by copying it and dropping the old one ("batch" mode); with foreign
    keys on, that drop deletes every row that refers to the table (ON DELETE CASCADE: all
    team messages with their teams). So foreign keys are off while the migration runs (the
    pragma only takes effect outside a transaction) and checked before it commits."""
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        _sqlite_pragma(connection, "foreign_keys=OFF")
    try:
        with connection.begin():
            run(_alembic_config(connection))
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left {len(broken)} broken foreign keys")
    finally:
        if sqlite:
            _sqlite_pragma(connection, "foreign_keys=ON")


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply the Alembic migrations up to `revision` on the engine's database."""
    async with engine.connect() as conn:
        await conn.run_sync(_migrate, lambda cfg: command.upgrade(cfg, revision))
    logger.info("database schema is at %s", revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    async with engine.connect() as conn:
        await conn.run_sync(_migrate, lambda cfg: command.downgrade(cfg, revision))
