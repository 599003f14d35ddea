"""Telegram's flood limits as Telegram defines them, shared by every process of one bot token.

- **Broadcasts** (nudges, campaigns: `rate_limit_args={"priority": "low"}`): at most
  `broadcast_per_second` overall (30; with `allow_paid_broadcast` up to 1,000), one per
  `chat_interval` seconds per chat and `group_per_minute` per group. The overall and group
  limits are shared by all processes (`SharedLimits`: PostgreSQL or Redis); one message per
  person underway across processes is kept by the outbox claim (`services.outbox`).
- **Replies** to someone who is chatting: per chat only, a burst of `chat_burst` and then one
  per `chat_interval` (a token bucket), never capped overall: Telegram's 30/s is for bulk
  notifications. A waiting reply always goes before a waiting broadcast of this process.
- A **429** (`RetryAfter`) pauses everyone, in every process, for the `retry_after` Telegram
  asks; then the request is retried.

Broadcast slots are reserved with GCRA (the generic cell rate algorithm: one "theoretical
arrival time" per key, moved on by one interval per message, on the shared server's clock), so
three processes together send at the rate one would, spaced evenly.

Evenly spaced sends still reach Telegram unevenly: a busy event loop, the network or Telegram's
own servers delay one message by 20 ms and not the next, and 31 arrive within one second (a 429,
and a pause for everyone). So every broadcast also holds one of `broadcast_per_second`
**permits**, shared by all processes, from before it is sent until one second after its answer
came back (a sliding-window log, kept on the shared server). However late any message arrives,
it arrived while its permit was held, and a permit is held for a second after it: no second ever
sees more arrivals than there are permits. This costs the round trip (about 30 per 1.03 s
with three processes on PostgreSQL).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import math
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

logger = logging.getLogger(__name__)

JSONDict = dict[str, Any]
LOW = "low"
PAID_BROADCAST_PER_SECOND = 1000
_MAX_TRACKED_CHATS = 10_000
# Broadcasts are paced a little under the limit, so that the permits (below) rarely have to wait.
HEADROOM = 0.99
PAUSE = "pause"
PERMITS = "permits"
# A permit whose send never reported back (the process died) frees itself after this long; longer
# than any send may take (the Bot API request times out after 5 s, a retry after a 429 waits).
PERMIT_FLIGHT_SECONDS = 30.0


class SharedLimits(Protocol):
    """Where the processes of one bot token meet: GCRA slots and the 429 pause."""

    name: str

    async def reserve(self, key: str, interval: float) -> float:
        """Take the next slot of `key` (one per `interval` s, after any pause); seconds to wait."""

    async def pause(self, seconds: float) -> None:
        """Telegram said 429: nobody sends for `seconds`."""

    async def paused_for(self) -> float:
        """Seconds the current pause still lasts (0 when none)."""

    async def acquire(self, key: str, permit: str, limit: int) -> float:
        """Hold `permit` of `key` when fewer than `limit` are held (0.0), else the seconds until
        the first one frees. A held permit frees itself after `PERMIT_FLIGHT_SECONDS`."""

    async def release(self, key: str, permit: str, hold: float) -> None:
        """The send is done: `permit` stays held for `hold` seconds more, then frees."""

    async def close(self) -> None:
        """Let go of connections."""


class LocalLimits:
    """One process (SQLite, tests): the same GCRA in memory."""

    name = "local"

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.tat: dict[str, float] = {}
        self.permits: dict[str, dict[str, float]] = {}  # key -> permit -> held until

    async def reserve(self, key: str, interval: float) -> float:
        now = self.clock()
        slot = max(self.tat.get(key, 0.0), now, self.tat.get(PAUSE, 0.0))
        self.tat[key] = slot + interval
        if len(self.tat) > _MAX_TRACKED_CHATS:
            self.tat = {k: v for k, v in self.tat.items() if v > now}
        return slot - now

    async def pause(self, seconds: float) -> None:
        self.tat[PAUSE] = max(self.tat.get(PAUSE, 0.0), self.clock() + seconds)

    async def paused_for(self) -> float:
        return max(self.tat.get(PAUSE, 0.0) - self.clock(), 0.0)

    async def acquire(self, key: str, permit: str, limit: int) -> float:
        now = self.clock()
        held = self.permits.setdefault(key, {})
        for gone in [p for p, until in held.items() if until <= now]:
            del held[gone]
        if len(held) < limit:
            held[permit] = now + PERMIT_FLIGHT_SECONDS
            return 0.0
        return min(held.values()) - now

    async def release(self, key: str, permit: str, hold: float) -> None:
        held = self.permits.setdefault(key, {})
        if permit in held:
            held[permit] = self.clock() + hold

    async def close(self) -> None:
        """Nothing to close."""


_PG_RESERVE = text(
    """
    WITH n AS (SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS DOUBLE PRECISION) AS now),
         p AS (SELECT COALESCE((SELECT tat FROM shared_limits WHERE key = :pause), 0) AS until)
    INSERT INTO shared_limits (key, tat)
    SELECT :key, GREATEST(n.now, p.until) + :interval FROM n, p
    ON CONFLICT (key) DO UPDATE
        SET tat = GREATEST(shared_limits.tat, excluded.tat - :interval) + :interval
    RETURNING tat - :interval - (SELECT now FROM n)
    """
)
_PG_PAUSE = text(
    """
    INSERT INTO shared_limits (key, tat)
    VALUES (:pause, CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS DOUBLE PRECISION) + :seconds)
    ON CONFLICT (key) DO UPDATE SET tat = GREATEST(shared_limits.tat, excluded.tat)
    """
)
# Permits are rows `<scope>:permits:<key>:<permit>` of the same table (`tat` = held until); the
# advisory lock makes counting and taking one step for all processes.
_PG_PERMIT_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:prefix, 0))")
_PG_ACQUIRE = text(
    """
    WITH n AS (SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS DOUBLE PRECISION) AS now),
         gone AS (DELETE FROM shared_limits
                  WHERE key LIKE :pattern AND tat <= (SELECT now FROM n)),
         held AS (SELECT count(*) AS taken, min(tat) AS first FROM shared_limits
                  WHERE key LIKE :pattern AND tat > (SELECT now FROM n)),
         took AS (INSERT INTO shared_limits (key, tat)
                  SELECT :permit, (SELECT now FROM n) + :flight FROM held WHERE taken < :limit
                  RETURNING key)
    SELECT CASE WHEN EXISTS (SELECT 1 FROM took) THEN 0.0
                ELSE (SELECT first FROM held) - (SELECT now FROM n) END
    """
)
_PG_RELEASE = text(
    "UPDATE shared_limits SET tat = CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS DOUBLE "
    "PRECISION) + :hold WHERE key = :permit"
)
_PG_PAUSED = text(
    "SELECT COALESCE(MAX(tat), 0) - CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS DOUBLE "
    "PRECISION) FROM shared_limits WHERE key = :pause"
)


class PostgresLimits:
    """GCRA in a row of `shared_limits` per key: one upsert per slot, on the database's clock."""

    name = "postgresql"

    def __init__(self, engine: AsyncEngine, scope: str) -> None:
        self.engine = engine
        self.scope = scope

    def _key(self, key: str) -> str:
        return f"{self.scope}:{key}"

    async def reserve(self, key: str, interval: float) -> float:
        async with self.engine.begin() as conn:
            wait = await conn.scalar(
                _PG_RESERVE,
                {"key": self._key(key), "interval": interval, "pause": self._key(PAUSE)},
            )
        return float(wait or 0.0)

    async def pause(self, seconds: float) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(_PG_PAUSE, {"pause": self._key(PAUSE), "seconds": seconds})

    async def paused_for(self) -> float:
        async with self.engine.connect() as conn:
            left = await conn.scalar(_PG_PAUSED, {"pause": self._key(PAUSE)})
        return max(float(left or 0.0), 0.0)

    def _permit_prefix(self, key: str) -> str:
        return self._key(f"{PERMITS}:{key}:")

    async def acquire(self, key: str, permit: str, limit: int) -> float:
        prefix = self._permit_prefix(key)
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        async with self.engine.begin() as conn:
            await conn.execute(_PG_PERMIT_LOCK, {"prefix": prefix})
            wait = await conn.scalar(
                _PG_ACQUIRE,
                {
                    "pattern": pattern,
                    "permit": prefix + permit,
                    "flight": PERMIT_FLIGHT_SECONDS,
                    "limit": limit,
                },
            )
        return float(wait or 0.0)

    async def release(self, key: str, permit: str, hold: float) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                _PG_RELEASE, {"permit": self._permit_prefix(key) + permit, "hold": hold}
            )

    async def close(self) -> None:
        """The engine belongs to the services."""


_REDIS_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local pause = tonumber(redis.call('GET', KEYS[2]) or '0')
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(tat, now, pause)
local interval = tonumber(ARGV[1])
local ttl = math.ceil((slot - now + interval) * 1000) + 60000
redis.call('SET', KEYS[1], tostring(slot + interval), 'PX', ttl)
return tostring(slot - now)
"""
_REDIS_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local until_ = now + tonumber(ARGV[1])
local old = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > old then
  redis.call('SET', KEYS[1], tostring(until_), 'PX', math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
end
return tostring(math.max(until_, old) - now)
"""
_REDIS_PAUSED = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
return tostring(math.max(tonumber(redis.call('GET', KEYS[1]) or '0') - now, 0))
"""

# Permits: a sorted set per key, member = permit, score = held until (Redis's clock).
_REDIS_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[3]) * 1000) + 1000)
  return '0'
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tostring(tonumber(first[2]) - now)
"""
_REDIS_RELEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
"""


class RedisLimits:
    """The same GCRA as a Lua script in Redis (atomic, on Redis's clock): with `REDIS_URL`."""

    name = "redis"

    def __init__(self, url: str, scope: str) -> None:
        import redis.asyncio as redis

        self.client = redis.from_url(url)
        self.scope = scope
        self._reserve = self.client.register_script(_REDIS_RESERVE)
        self._pause = self.client.register_script(_REDIS_PAUSE)
        self._paused = self.client.register_script(_REDIS_PAUSED)
        self._acquire = self.client.register_script(_REDIS_ACQUIRE)
        self._release = self.client.register_script(_REDIS_RELEASE)

    def _key(self, key: str) -> str:
        return f"leerloop:{self.scope}:{key}"

    async def reserve(self, key: str, interval: float) -> float:
        wait = await self._reserve(keys=[self._key(key), self._key(PAUSE)], args=[interval])
        return float(wait)

    async def pause(self, seconds: float) -> None:
        await self._pause(keys=[self._key(PAUSE)], args=[seconds])

    async def paused_for(self) -> float:
        return float(await self._paused(keys=[self._key(PAUSE)]))

    async def acquire(self, key: str, permit: str, limit: int) -> float:
        keys = [self._key(f"{PERMITS}:{key}")]
        return float(await self._acquire(keys=keys, args=[permit, limit, PERMIT_FLIGHT_SECONDS]))

    async def release(self, key: str, permit: str, hold: float) -> None:
        await self._release(keys=[self._key(f"{PERMITS}:{key}")], args=[permit, hold])

    async def close(self) -> None:
        await self.client.aclose()


def token_scope(token: str) -> str:
    """A name for one bot token that does not reveal it."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


class _Bucket:
    """A token bucket for one chat's replies: `burst` at once, then one per `interval`."""

    __slots__ = ("at", "tokens")

    def __init__(self, burst: int, now: float) -> None:
        self.tokens = float(burst)
        self.at = now


class PriorityRateLimiter(BaseRateLimiter[dict[str, Any]]):
    def __init__(
        self,
        *,
        broadcast_per_second: float = 30,
        chat_interval: float = 1.0,
        group_per_minute: int = 20,
        chat_burst: int = 5,
        allow_paid_broadcast: bool = False,
        shared: SharedLimits | None = None,
        max_retries: int = 5,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        pause_check_seconds: float = 0.5,
    ) -> None:
        if allow_paid_broadcast:
            broadcast_per_second = PAID_BROADCAST_PER_SECOND
        self.broadcast_per_second = broadcast_per_second
        self.broadcast_interval = (
            1.0 / (broadcast_per_second * HEADROOM) if broadcast_per_second else 0.0
        )
        self.chat_interval = chat_interval
        self.group_interval = 60.0 / group_per_minute if group_per_minute else 0.0
        self.chat_burst = chat_burst
        self.max_retries = max_retries
        self.clock = clock
        self.sleep = sleep
        self.shared: SharedLimits = shared or LocalLimits(clock)
        self.local = LocalLimits(clock)  # per-chat slots of this process
        self._buckets: dict[int | str, _Bucket] = {}
        self._groups: dict[int | str, deque[float]] = {}
        self._permit_limit = max(1, math.floor(broadcast_per_second))
        self._permit_prefix = f"{secrets.token_hex(6)}-"
        self._permit_numbers = itertools.count()
        self._high_waiting = 0
        self._paused_until = -math.inf
        self._pause_checked = -math.inf
        self._pause_check = pause_check_seconds
        self.retry_after_count = 0

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        await self.shared.close()

    # ---------------------------------------------------------------- waiting

    async def _wait_for_pause(self) -> None:
        """Wait out a 429 pause, ours or (checked every half second) another process's."""
        while True:
            now = self.clock()
            if now - self._pause_checked >= self._pause_check:
                self._pause_checked = now
                left = await self.shared.paused_for()
                self._paused_until = max(self._paused_until, now + left)
            wait = self._paused_until - self.clock()
            if wait <= 0:
                return
            await self.sleep(wait)

    async def _reply_slot(self, chat_id: int | str) -> None:
        """Per chat: a burst, then one per interval; groups at most so many a minute."""
        if self.chat_interval:
            while True:
                now = self.clock()
                bucket = self._buckets.get(chat_id)
                if bucket is None:
                    bucket = self._buckets[chat_id] = _Bucket(self.chat_burst, now)
                    if len(self._buckets) > _MAX_TRACKED_CHATS:
                        self._forget_quiet_chats(now)
                refill = (now - bucket.at) / self.chat_interval
                bucket.tokens = min(float(self.chat_burst), bucket.tokens + refill)
                bucket.at = now
                if bucket.tokens >= 1:
                    bucket.tokens -= 1
                    break
                await self.sleep((1 - bucket.tokens) * self.chat_interval)
        if _is_group(chat_id) and self.group_interval:
            window = self._groups.setdefault(chat_id, deque())
            limit = round(60.0 / self.group_interval)
            while True:
                now = self.clock()
                while window and now - window[0] >= 60.0:
                    window.popleft()
                if len(window) < limit:
                    window.append(now)
                    return
                await self.sleep(60.0 - (now - window[0]))

    async def _broadcast_slot(self, chat_id: int | str) -> None:
        """Replies of this process first; then this chat's, the group's and the overall slot."""
        while self._high_waiting:
            await self.sleep(0.005)
        waits = []
        if self.chat_interval:
            waits.append(await self.local.reserve(f"chat:{chat_id}", self.chat_interval))
        if _is_group(chat_id) and self.group_interval:
            waits.append(await self.shared.reserve(f"group:{chat_id}", self.group_interval))
        wait = max(waits, default=0.0)
        if wait > 0:
            await self.sleep(wait)
        if self.broadcast_interval:
            wait = await self.shared.reserve("broadcast", self.broadcast_interval)
            if wait > 0:
                await self.sleep(wait)

    async def _take_permit(self) -> str:
        """One of the `broadcast_per_second` permits shared by every process (see the module
        docstring); waits while all are held."""
        permit = f"{self._permit_prefix}{next(self._permit_numbers)}"
        while True:
            wait = await self.shared.acquire("broadcast", permit, self._permit_limit)
            if wait <= 0:
                return permit
            await self.sleep(min(wait, 1.0))

    async def _return_permit(self, permit: str) -> None:
        """Telegram has the message (or refused it): its permit counts for one second more."""
        try:
            await self.shared.release("broadcast", permit, 1.0)
        except Exception:
            logger.warning("telegram: could not return a broadcast permit; it expires by itself")

    def _forget_quiet_chats(self, now: float) -> None:
        """Chats whose bucket is full again need no memory (keeps the map small)."""
        full = self.chat_burst * self.chat_interval
        self._buckets = {c: b for c, b in self._buckets.items() if now - b.at < full}
        self._groups = {c: w for c, w in self._groups.items() if w and now - w[-1] < 60.0}

    # ---------------------------------------------------------------- PTB hook

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | JSONDict | list[JSONDict]:
        chat_id: int | str | None = data.get("chat_id")
        if isinstance(chat_id, str):
            with contextlib.suppress(ValueError):
                chat_id = int(chat_id)
        low = bool(rate_limit_args and rate_limit_args.get("priority") == LOW)
        retries = 0
        while True:
            permit: str | None = None
            if chat_id is not None:
                if low:
                    await self._wait_for_pause()
                    await self._broadcast_slot(chat_id)
                    if self.broadcast_interval:
                        permit = await self._take_permit()
                else:
                    # While replies wait out a pause, this process's broadcasts stand back.
                    self._high_waiting += 1
                    try:
                        await self._wait_for_pause()
                    finally:
                        self._high_waiting -= 1
                    await self._reply_slot(chat_id)
            try:
                return await self._send(callback, args, kwargs, permit)
            except RetryAfter as exc:
                self.retry_after_count += 1
                if retries >= self.max_retries:
                    raise
                retries += 1
                pause = exc.retry_after
                seconds = pause if isinstance(pause, int | float) else pause.total_seconds()
                logger.warning("telegram: 429, pausing all sends for %.1f s", seconds)
                self._paused_until = max(self._paused_until, self.clock() + seconds + 0.1)
                await self.shared.pause(seconds + 0.1)

    async def _send(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        permit: str | None,
    ) -> bool | JSONDict | list[JSONDict]:
        """The request itself; a broadcast's permit goes back as soon as the answer is in."""
        try:
            return await callback(*args, **kwargs)
        finally:
            if permit is not None:
                await self._return_permit(permit)


def _is_group(chat_id: int | str) -> bool:
    return isinstance(chat_id, str) or chat_id < 0


def shared_limits(*, engine: AsyncEngine, redis_url: str | None, token: str) -> SharedLimits:
    """Redis when configured, else PostgreSQL; SQLite is one process, so in memory."""
    scope = token_scope(token)
    if redis_url:
        return RedisLimits(redis_url, scope)
    if engine.dialect.name == "postgresql":
        return PostgresLimits(engine, scope)
    return LocalLimits()
