"""The bot's rate limiter on its own, with a fake clock-free callback (fast)."""

from __future__ import annotations

import asyncio
import time

from bot._rate_limit import LOW, PriorityRateLimiter


async def _ok() -> bool:
    await asyncio.sleep(0.001)
    return True


async def _send(limiter: PriorityRateLimiter, chat: int, low: bool) -> float:
    started = time.perf_counter()
    await limiter.process_request(
        _ok, (), {}, "sendMessage", {"chat_id": chat}, {"priority": LOW} if low else None
    )
    return time.perf_counter() - started


async def test_never_more_than_the_limit_in_any_second() -> None:
    limiter = PriorityRateLimiter(max_per_second=10, chat_interval=0)
    stamps: list[float] = []

    async def send(chat: int) -> None:
        async def record() -> bool:
            stamps.append(time.perf_counter())
            return True

        await limiter.process_request(record, (), {}, "sendMessage", {"chat_id": chat}, None)

    await asyncio.gather(*(send(n) for n in range(25)))
    stamps.sort()
    for i in range(len(stamps) - 10):
        assert stamps[i + 10] - stamps[i] >= 1.0


async def test_a_reply_does_not_wait_behind_background_messages() -> None:
    limiter = PriorityRateLimiter(max_per_second=20, chat_interval=0)
    background = [asyncio.create_task(_send(limiter, 1000 + n, low=True)) for n in range(60)]
    await asyncio.sleep(0.6)
    waits = [await _send(limiter, 42, low=False) for _ in range(3)]
    for task in background:
        task.cancel()
    assert max(waits) < 0.1


async def test_background_messages_to_one_chat_are_a_second_apart() -> None:
    limiter = PriorityRateLimiter(max_per_second=0, chat_interval=0.3)
    first = await _send(limiter, 7, low=True)
    second = await _send(limiter, 7, low=True)
    assert first < 0.05
    assert second >= 0.25
