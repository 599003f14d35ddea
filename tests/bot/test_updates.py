"""Concurrent updates: different chats at once, one chat's updates in order."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from telegram import Update

from bot._updates import PerChatUpdateProcessor


def _update(update_id: int, chat_id: int) -> Update:
    return Update.de_json(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 0,
                "chat": {"id": chat_id, "type": "private"},
                "from": {"id": chat_id, "is_bot": False, "first_name": "Anna"},
                "text": "hoi",
            },
        },
        None,
    )


async def test_chats_run_at_the_same_time_and_one_chat_in_order() -> None:
    processor = PerChatUpdateProcessor(max_concurrent_updates=16)
    log: list[tuple[str, int, int]] = []
    release = asyncio.Event()

    async def turn(update_id: int, chat_id: int, *, slow: bool) -> None:
        log.append(("start", chat_id, update_id))
        if slow:
            await release.wait()
        await asyncio.sleep(0)
        log.append(("end", chat_id, update_id))

    async def feed(update_id: int, chat_id: int, *, slow: bool = False) -> Any:
        update = _update(update_id, chat_id)
        return asyncio.create_task(
            processor.process_update(update, turn(update_id, chat_id, slow=slow))
        )

    tasks = [
        await feed(1, 100, slow=True),  # chat 100's first turn is slow
        await feed(2, 100),
        await feed(3, 100),
        await feed(4, 200),
        await feed(5, 300),
    ]
    await asyncio.sleep(0.05)
    # The other chats were answered while chat 100 waits; its later updates did not start.
    assert ("end", 200, 4) in log and ("end", 300, 5) in log
    assert [u for kind, chat, u in log if chat == 100] == [1]
    assert processor.busy_chats == 1
    release.set()
    await asyncio.gather(*tasks)
    assert [(kind, u) for kind, chat, u in log if chat == 100] == [
        ("start", 1),
        ("end", 1),
        ("start", 2),
        ("end", 2),
        ("start", 3),
        ("end", 3),
    ]
    assert processor.busy_chats == 0


async def test_a_failing_turn_does_not_block_the_chat() -> None:
    processor = PerChatUpdateProcessor()

    async def boom() -> None:
        raise RuntimeError("turn failed")

    async def fine() -> None:
        await asyncio.sleep(0)

    with pytest.raises(RuntimeError):
        await processor.process_update(_update(1, 7), boom())
    await asyncio.wait_for(processor.process_update(_update(2, 7), fine()), timeout=1)
    assert processor.busy_chats == 0
