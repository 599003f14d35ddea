"""The shared limits on a real server: PostgreSQL (every run with TEST_POSTGRES_URL) and Redis
(when a `redis-server` is installed): GCRA slots one interval apart, on the server's clock, for
any number of clients at once; a pause moves every later slot; broadcast permits never held by
more than the limit at once, also by two processes, and free a hold time after release."""

from __future__ import annotations

import asyncio
import itertools
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot._rate_limit import PostgresLimits, RedisLimits, SharedLimits
from tests.support.processes import free_port

INTERVAL = 0.02


@pytest.fixture(params=["postgresql", "redis"])
async def shared(
    request: pytest.FixtureRequest, engine: AsyncEngine, tmp_path: Path
) -> AsyncIterator[SharedLimits]:
    if request.param == "postgresql":
        if engine.dialect.name != "postgresql":
            pytest.skip("PostgreSQL only (SQLite runs one process)")
        yield PostgresLimits(engine, f"test-{id(request)}")
        return
    if engine.dialect.name != "sqlite":
        pytest.skip("once per session is enough")
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("no redis-server installed")
    port = free_port()
    proc = subprocess.Popen(  # noqa: S603
        [server, "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    limits = RedisLimits(f"redis://127.0.0.1:{port}/0", "test")
    try:
        for _ in range(100):
            try:
                await limits.client.ping()
                break
            except Exception:
                await asyncio.sleep(0.05)
        yield limits
    finally:
        await limits.close()
        proc.terminate()
        proc.wait()


async def test_slots_are_one_interval_apart_for_many_clients_at_once(
    shared: SharedLimits,
) -> None:
    waits = await asyncio.gather(*(shared.reserve("broadcast", INTERVAL) for _ in range(40)))
    waits = sorted(waits)
    # The n-th slot is n intervals after the first (less the time the requests took).
    assert waits[-1] == pytest.approx(39 * INTERVAL, abs=0.15)
    spread = [b - a for a, b in itertools.pairwise(waits)]
    assert min(spread) >= -0.01
    assert waits[0] <= 0.05


async def test_a_pause_moves_every_later_slot(shared: SharedLimits) -> None:
    await shared.pause(1.5)
    assert 1.3 <= await shared.paused_for() <= 1.5
    wait = await shared.reserve("other", INTERVAL)
    assert 1.3 <= wait <= 1.5


async def test_no_more_permits_than_the_limit_for_many_clients_at_once(
    shared: SharedLimits,
) -> None:
    names = [f"p{n}" for n in range(40)]
    waits = await asyncio.gather(*(shared.acquire("broadcast", name, 5) for name in names))
    granted = [name for name, wait in zip(names, waits, strict=True) if wait == 0]
    assert len(granted) == 5
    assert all(0 < wait <= 30 for wait in waits if wait != 0), "wait until the first frees"
    # Returned permits count for their hold time, then free: room for five more.
    await asyncio.gather(*(shared.release("broadcast", name, 0.3) for name in granted))
    assert await shared.acquire("broadcast", "late", 5) == pytest.approx(0.3, abs=0.1)
    await asyncio.sleep(0.4)
    waits = await asyncio.gather(*(shared.acquire("broadcast", f"q{n}", 5) for n in range(7)))
    assert sorted(waits)[:5] == [0, 0, 0, 0, 0] and min(sorted(waits)[5:]) > 0


async def test_two_processes_share_one_set_of_permits(
    shared: SharedLimits, engine: AsyncEngine
) -> None:
    if isinstance(shared, PostgresLimits):
        other: SharedLimits = PostgresLimits(engine, shared.scope)
    else:
        assert isinstance(shared, RedisLimits)
        where = shared.client.connection_pool.connection_kwargs
        other = RedisLimits(f"redis://{where['host']}:{where['port']}/0", shared.scope)
    try:
        assert await shared.acquire("broadcast", "a", 2) == 0
        assert await other.acquire("broadcast", "b", 2) == 0
        assert await other.acquire("broadcast", "c", 2) > 0
        assert await shared.acquire("broadcast", "d", 2) > 0
    finally:
        if other is not shared:
            await other.close()
