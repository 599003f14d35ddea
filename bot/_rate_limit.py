"""Telegram's flood limits for everything the bot sends, with replies to people first.

One limiter for the whole bot (python-telegram-bot's `BaseRateLimiter`): at most
`max_per_second` messages in any one-second window overall, `group_per_minute` per group chat,
and, for background messages (nudges, campaigns: `rate_limit_args={"priority": "low"}`), at most
one per `chat_interval` seconds per chat, spread evenly over the second and leaving one place per
second free. A reply to someone who is chatting always goes before waiting background messages,
so a campaign does not slow the conversation down. A 429
(`RetryAfter`) pauses all sending for the time Telegram asks, then the request is retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

logger = logging.getLogger(__name__)

JSONDict = dict[str, Any]
LOW = "low"
_MAX_TRACKED_CHATS = 10_000


class _Window:
    """At most `limit` requests in any `period` seconds, as the server sees them.

    A request holds its place from when it may start until it has finished; the period is
    counted from when it finished. So however long a request is underway, two requests that
    are `limit` places apart arrive at the server at least `period` apart.
    """

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self.slots: deque[list[float]] = deque()  # [finished at]; inf while underway

    def wait_time(self, now: float, reserve: int = 0) -> float:
        """How long until a request may start; `reserve` places are kept for others."""
        if self.slots and any(now - slot[0] >= self.period for slot in self.slots):
            self.slots = deque(slot for slot in self.slots if now - slot[0] < self.period)
        if len(self.slots) < self.limit - reserve:
            return 0.0
        oldest = min(slot[0] for slot in self.slots)
        if oldest == math.inf:
            return 0.005  # all underway: look again shortly
        return max(self.period - (now - oldest), 0.001)

    def take(self) -> list[float]:
        slot = [math.inf]
        self.slots.append(slot)
        return slot


class PriorityRateLimiter(BaseRateLimiter[dict[str, Any]]):
    def __init__(
        self,
        *,
        max_per_second: int = 30,
        chat_interval: float = 1.0,
        group_per_minute: int = 20,
        max_retries: int = 5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.overall = _Window(max_per_second, 1.0) if max_per_second else None
        self.chat_interval = chat_interval
        self.group_per_minute = group_per_minute
        self.max_retries = max_retries
        self.clock = clock
        self._groups: dict[int | str, _Window] = {}
        self._last_per_chat: dict[int | str, float] = {}
        self._high_waiting = 0
        self._last_low = -math.inf
        self._lock = asyncio.Lock()
        self._not_paused = asyncio.Event()
        self._not_paused.set()
        self.retry_after_count = 0

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    async def _acquire(self, chat_id: int | str | None, low: bool) -> list[list[float]]:
        is_group = isinstance(chat_id, str) or (isinstance(chat_id, int) and chat_id < 0)
        if not low:
            self._high_waiting += 1
        try:
            while True:
                await self._not_paused.wait()
                async with self._lock:
                    now = self.clock()
                    waits = [0.0]
                    if low and self._high_waiting:
                        waits.append(0.005)
                    if self.overall is not None:
                        # Background messages leave one place per second for replies, and are
                        # spread evenly instead of sent in bursts, so a reply never waits long.
                        reserve = 1 if low and self.overall.limit > 1 else 0
                        waits.append(self.overall.wait_time(now, reserve))
                        if low:
                            spacing = 1.0 / self.overall.limit
                            waits.append(self._last_low + spacing - now)
                    if is_group and chat_id is not None and self.group_per_minute:
                        group = self._groups.setdefault(
                            chat_id, _Window(self.group_per_minute, 60.0)
                        )
                        waits.append(group.wait_time(now))
                    if low and chat_id is not None and self.chat_interval:
                        last = self._last_per_chat.get(chat_id)
                        if last is not None:
                            waits.append(self.chat_interval - (now - last))
                    wait = max(waits)
                    if wait <= 0:
                        slots = []
                        if self.overall is not None:
                            slots.append(self.overall.take())
                        if is_group and chat_id is not None and self.group_per_minute:
                            slots.append(self._groups[chat_id].take())
                        if chat_id is not None:
                            self._last_per_chat[chat_id] = now
                            if len(self._last_per_chat) > _MAX_TRACKED_CHATS:
                                self._forget_quiet_chats(now)
                        if low:
                            self._last_low = now
                        return slots
                await asyncio.sleep(wait)
        finally:
            if not low:
                self._high_waiting -= 1

    def _forget_quiet_chats(self, now: float) -> None:
        """Chats not written to within their interval need no memory (keeps the maps small)."""
        horizon = max(self.chat_interval, 0.0)
        self._last_per_chat = {
            chat: at for chat, at in self._last_per_chat.items() if now - at < horizon
        }
        self._groups = {
            chat: window
            for chat, window in self._groups.items()
            if window.wait_time(now) > 0 or window.slots
        }

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
            slots = await self._acquire(chat_id, low) if chat_id is not None else []
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                self.retry_after_count += 1
                if retries >= self.max_retries:
                    raise
                retries += 1
                pause = exc.retry_after
                seconds = pause if isinstance(pause, int | float) else pause.total_seconds()
                logger.warning("telegram: 429, pausing all sends for %.1f s", seconds)
                self._not_paused.clear()
                try:
                    await asyncio.sleep(seconds + 0.1)
                finally:
                    self._not_paused.set()
            finally:
                finished = self.clock()
                for slot in slots:
                    slot[0] = finished
