"""The shared broadcast limiter's two backends side by side: how long one slot reservation takes
on PostgreSQL (an upsert on one row) and on Redis (a Lua script), alone and with many callers.

Run: TEST_POSTGRES_URL=postgresql://... .venv/bin/python -m bench.shared_limits \\
        [--sequential 400] [--concurrent 480] [--callers 3]

Needs a `redis-server` binary (started here on a free port, no persistence). Each broadcast
message takes one reservation, so at 30 messages a second either backend's cost per message is
what counts, and how it grows when several processes reserve at once (`--callers` engines or
clients, each with its own connection pool, reserving side by side).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable

from bot._rate_limit import PostgresLimits, RedisLimits, SharedLimits
from core.db import create_engine
from tests.support.databases import migrated_postgres, postgres_url
from tests.support.processes import free_port

KEY = "broadcast"
INTERVAL = 1e-6  # spacing is tested elsewhere; here only the cost of a reservation counts


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return f"p50 {statistics.median(ordered) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms"


async def _timed(call: Callable[[], Awaitable[float]]) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


async def _measure(name: str, limiters: list[SharedLimits], sequential: int, total: int) -> None:
    first = limiters[0]
    for _ in range(20):  # connections open, scripts loaded
        await first.reserve(KEY, INTERVAL)
    alone = [await _timed(lambda: first.reserve(KEY, INTERVAL)) for _ in range(sequential)]
    per_caller = total // len(limiters)

    async def caller(limits: SharedLimits) -> list[float]:
        return [await _timed(lambda: limits.reserve(KEY, INTERVAL)) for _ in range(per_caller)]

    started = time.perf_counter()
    results = await asyncio.gather(*(caller(limits) for limits in limiters))
    elapsed = time.perf_counter() - started
    together = [value for result in results for value in result]
    print(
        f"{name:10} alone ({sequential}): {_ms(alone)} | {len(limiters)} callers at once "
        f"({len(together)}): {_ms(together)}, {len(together) / elapsed:.0f} reservations/s"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sequential", type=int, default=400)
    parser.add_argument("--concurrent", type=int, default=480)
    parser.add_argument("--callers", type=int, default=3)
    args = parser.parse_args()
    server = postgres_url()
    redis_server = shutil.which("redis-server")
    if server is None or redis_server is None:
        raise SystemExit("needs TEST_POSTGRES_URL and a redis-server binary")
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        redis = subprocess.Popen(
            [redis_server, "--port", str(port), "--save", "", "--appendonly", "no"],
            cwd=folder,
            stdout=subprocess.DEVNULL,
        )
        try:
            async with migrated_postgres(server) as url:
                engines = [create_engine(url) for _ in range(args.callers)]
                clients = [
                    RedisLimits(f"redis://127.0.0.1:{port}/0", "bench") for _ in range(args.callers)
                ]
                for _ in range(100):
                    try:
                        await clients[0].client.ping()
                        break
                    except Exception:
                        await asyncio.sleep(0.05)
                try:
                    postgres = [PostgresLimits(engine, "bench") for engine in engines]
                    await _measure("postgresql", list(postgres), args.sequential, args.concurrent)
                    await _measure("redis", list(clients), args.sequential, args.concurrent)
                finally:
                    for engine in engines:
                        await engine.dispose()
                    for client in clients:
                        await client.close()
        finally:
            redis.terminate()
            redis.wait()


if __name__ == "__main__":
    asyncio.run(main())
