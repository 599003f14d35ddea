from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import Base, create_engine, downgrade, upgrade
from core.models import Channel, User

pytestmark = pytest.mark.db


def _column_names(conn: Connection, table: str) -> set[str]:
    return {col["name"] for col in inspect(conn).get_columns(table)}


async def test_migrations_match_the_models(db_url: str) -> None:
    engine = create_engine(db_url)
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        columns = {
            t.name: await conn.run_sync(_column_names, t.name) for t in Base.metadata.sorted_tables
        }
    await engine.dispose()
    assert set(Base.metadata.tables) <= tables
    for table in Base.metadata.sorted_tables:
        assert columns[table.name] == {c.name for c in table.columns}, table.name


async def test_migrations_create_exactly_the_schema_of_the_models(db_url: str) -> None:
    """Alembic's own comparison (tables, columns, types, indexes, constraints): the migrations
    and the models never drift apart."""
    import knowledge.models  # noqa: F401  (registers the knowledge tables)

    def compare(conn: Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    engine = create_engine(db_url)
    async with engine.connect() as conn:
        diff = await conn.run_sync(compare)
    await engine.dispose()
    assert diff == []


async def test_downgrade_and_upgrade_again(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    await upgrade(engine)
    await downgrade(engine, "base")
    async with engine.connect() as conn:
        assert await conn.run_sync(lambda c: inspect(c).get_table_names()) == ["alembic_version"]
    await upgrade(engine)
    async with engine.connect() as conn:
        assert "users" in await conn.run_sync(lambda c: inspect(c).get_table_names())
    await engine.dispose()


async def test_datetimes_come_back_aware(sessions: async_sessionmaker[AsyncSession]) -> None:
    amsterdam = timezone(timedelta(hours=1))
    moment = datetime(2026, 3, 15, 9, 30, tzinfo=amsterdam)
    async with sessions() as session, session.begin():
        session.add(
            User(channel=Channel.CONSOLE, external_id="tz", consent=True, consent_at=moment)
        )
    async with sessions() as session:
        user = (await session.execute(select(User).where(User.external_id == "tz"))).scalar_one()
        assert user.consent_at == moment
        assert user.consent_at is not None and user.consent_at.tzinfo is not None
        assert user.consent_at.utcoffset() == timedelta(0)
        assert user.created_at.tzinfo is UTC or user.created_at.utcoffset() == timedelta(0)


async def test_naive_datetimes_are_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    with pytest.raises(Exception, match="naive datetimes"):
        async with sessions() as session, session.begin():
            session.add(
                User(channel=Channel.CONSOLE, external_id="naive", consent_at=datetime(2026, 1, 1))
            )


async def test_one_user_per_chat(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        session.add(User(channel=Channel.TELEGRAM, external_id="42"))
    with pytest.raises(IntegrityError):
        async with sessions() as session, session.begin():
            session.add(User(channel=Channel.TELEGRAM, external_id="42"))


async def test_sqlite_uses_wal_without_a_disk_sync_per_commit(tmp_path: Path) -> None:
    from sqlalchemy import text

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    async with engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
        assert (await conn.execute(text("PRAGMA synchronous"))).scalar_one() == 1  # NORMAL
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
    await engine.dispose()


async def test_public_ids_are_given_to_the_teams_and_messages_already_there(
    tmp_path: Path,
) -> None:
    """0012 backfills: every existing team and team message gets its own opaque id, and
    nothing that refers to a team is lost on the way."""
    from sqlalchemy import text

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'b.db'}")
    await upgrade(engine, "0011_scale")
    now = "2026-12-01 09:00:00.000000"
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO organisations (id, name, kind, token_hash, created_at) "
                "VALUES (1, 'Bakkerij', 'employer', 'h', :now)"
            ),
            {"now": now},
        )
        for n in (1, 2, 3):
            await conn.execute(
                text(
                    "INSERT INTO teams (id, employer_id, name, invite_code, manager_code, "
                    "created_at) VALUES (:n, 1, 'Team', :i, :m, :now)"
                ),
                {"n": n, "i": f"i{n}", "m": f"m{n}", "now": now},
            )
            await conn.execute(
                text(
                    "INSERT INTO campaigns (id, team_id, text, send_at, queued, created_at) "
                    "VALUES (:n, :n, 'Hoi', :now, 0, :now)"
                ),
                {"n": n, "now": now},
            )
    await upgrade(engine)
    async with engine.connect() as conn:
        teams = (await conn.execute(text("SELECT public_id FROM teams"))).scalars().all()
        messages = (await conn.execute(text("SELECT public_id FROM campaigns"))).scalars().all()
        # SQLite's batch copies ran with foreign keys off (else dropping the old teams table
        # deletes every message); they are on again for whoever uses the connection next.
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
    await engine.dispose()
    assert len(set(teams)) == 3 and all(re.fullmatch(r"tm_[a-z0-9]{16}", t) for t in teams)
    assert len(set(messages)) == 3 and all(re.fullmatch(r"cp_[a-z0-9]{16}", m) for m in messages)
