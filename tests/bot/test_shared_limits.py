"""The shared GCRA on a real server: PostgreSQL (every run with TEST_POSTGRES_URL) and Redis
(when a `redis-server` is installed): slots one interval apart, on the server's clock, for any
number of clients at once; a pause moves every later slot."""

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
