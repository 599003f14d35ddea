"""SQLite that holds up: writers queue instead of failing with "database is locked", reads
take no write lock, and a search-index rebuild runs while a write transaction is open."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from core.db import create_engine, create_read_engine, session_factory, upgrade
from core.models import Channel, User
from knowledge import Knowledge, seed_knowledge

HOLD_SECONDS = 0.25
WRITERS = 30  # 30 x 0.25 s of holding the write lock: longer than the old 5 s busy_timeout


async def test_concurrent_writers_queue_instead_of_failing(tmp_path: Path) -> None:
    """Before: every writer polled SQLite's lock for at most 5 s, so the last of 30 writers
    that each hold it for a quarter second failed with "database is locked"."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'writers.db'}")
    await upgrade(engine)
    sessions = session_factory(engine)

    async def write(n: int) -> None:
        async with sessions() as session, session.begin():
            session.add(User(channel=Channel.CONSOLE, external_id=f"writer-{n}"))
            await session.flush()
            await asyncio.sleep(HOLD_SECONDS)  # a slow turn: NLU, an index, a chart

    try:
        await asyncio.gather(*(write(n) for n in range(WRITERS)))
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(User)) == WRITERS
            mode = (await session.execute(text("PRAGMA journal_mode"))).scalar_one()
            assert mode == "wal"
    finally:
        await engine.dispose()


async def test_reads_and_index_rebuilds_take_no_write_lock(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'reads.db'}"
    engine = create_engine(url)
    await upgrade(engine)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await seed_knowledge(session)
    read_engine = create_read_engine(url)
    assert read_engine is not None
    readers = session_factory(read_engine)
    knowledge = Knowledge(read_sessions=readers)
    writing = asyncio.Event()
    done = asyncio.Event()

    async def long_write() -> None:
        async with sessions() as session, session.begin():
            session.add(User(channel=Channel.CONSOLE, external_id="slow"))
            await session.flush()
            writing.set()
            await done.wait()

    writer = asyncio.create_task(long_write())
    try:
        await asyncio.wait_for(writing.wait(), 10)

        async def read() -> int:
            async with readers() as session:
                # Before: this was BEGIN IMMEDIATE, waited for the writer and failed after 5 s.
                assert await session.scalar(select(func.count()).select_from(User)) == 0
                index = await knowledge.course_index(session, date(2026, 11, 27))
            return len(index.courses)

        assert await asyncio.wait_for(read(), 60) > 100
        assert not writer.done()  # all of it while the write transaction was still open
        with pytest.raises(OperationalError, match="readonly"):  # query_only: no write by mistake
            async with readers() as session, session.begin():
                await session.execute(text("DELETE FROM users"))
    finally:
        done.set()
        await writer
        await engine.dispose()
        await read_engine.dispose()


def test_no_read_engine_for_memory_or_postgresql() -> None:
    assert create_read_engine("sqlite+aiosqlite://") is None
    assert create_read_engine("postgresql+asyncpg://u@localhost/db") is None
