"""Webhook durability with real `leerloop run` processes on PostgreSQL: every update answered
200 is stored first, so 30 updates followed by a SIGKILL are all handled after the restart, and
an update Telegram repeats is handled once (one reply, one row)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from core.db import create_engine, session_factory
from core.models import TelegramUpdate, UpdateStatus
from tests.e2e.test_scale import env_for, process
from tests.support import FakeTelegram
from tests.support.databases import migrated_postgres, postgres_url

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(postgres_url() is None, reason="TEST_POSTGRES_URL is not set"),
]

SECRET = "s3cret-webhook"


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    server = postgres_url()
    assert server is not None
    async with migrated_postgres(server) as url:
        yield url


FIRST_CHAT = 810_000


def webhook_env(fake: FakeTelegram, db_url: str) -> dict[str, str]:
    return env_for(
        fake,
        db_url,
        TELEGRAM_WEBHOOK_URL="http://127.0.0.1/telegram/webhook",
        TELEGRAM_WEBHOOK_SECRET=SECRET,
    )


def text_update(fake: FakeTelegram, chat: int, text: str) -> dict[str, Any]:
    return fake.make_update(
        {
            "message": {
                "message_id": chat,
                "date": 1_764_000_000,
                "chat": {"id": chat, "type": "private", "first_name": "Sam"},
                "from": {"id": chat, "is_bot": False, "first_name": "Sam"},
                "text": text,
                "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
            }
        }
    )


async def post(port: int, update: dict[str, Any]) -> int:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"http://127.0.0.1:{port}/telegram/webhook",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            timeout=10,
        )
        return response.status_code


async def inbox_rows(db_url: str) -> Counter[str]:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            rows = await session.execute(
                select(TelegramUpdate.status, func.count()).group_by(TelegramUpdate.status)
            )
            return Counter({s.value: n for s, n in rows.all()})
    finally:
        await engine.dispose()


async def test_30_updates_then_sigkill_are_all_handled_after_the_restart(
    fake_telegram: FakeTelegram, pg_url: str, tmp_path: Path
) -> None:
    env = webhook_env(fake_telegram, pg_url)
    first = await process(tmp_path, env, "a").start()
    chats = range(FIRST_CHAT, FIRST_CHAT + 30)
    statuses = await asyncio.gather(
        *(post(first.port, text_update(fake_telegram, chat, "/start")) for chat in chats)
    )
    assert statuses == [200] * 30
    await first.kill()
    answered_before = {m.chat_id for m in fake_telegram.sent if m.chat_id in chats}
    second = await process(tmp_path, env, "b").start()
    try:
        await fake_telegram.wait_until(
            lambda: {m.chat_id for m in fake_telegram.sent if m.chat_id in chats} == set(chats),
            timeout=60,
        )
        await asyncio.sleep(1.0)
    finally:
        assert await second.stop() == 0
    print(f"webhook: {len(answered_before)} of 30 answered before the SIGKILL, all 30 after")
    assert await inbox_rows(pg_url) == Counter({UpdateStatus.DONE.value: 30})


async def test_a_repeated_update_id_is_handled_once(
    fake_telegram: FakeTelegram, pg_url: str, tmp_path: Path
) -> None:
    env = webhook_env(fake_telegram, pg_url)
    bot = await process(tmp_path, env, "a").start()
    chat = FIRST_CHAT + 99
    update = text_update(fake_telegram, chat, "/start")
    try:
        for _ in range(3):  # Telegram repeats an update it did not see answered in time
            assert await post(bot.port, update) == 200
        await fake_telegram.wait_for_messages(chat, 1, timeout=30)
        await asyncio.sleep(2.0)  # a second reply would arrive now
        assert await post(bot.port, update) == 200  # and again after it was handled
        await asyncio.sleep(1.5)
    finally:
        assert await bot.stop() == 0
    replies = fake_telegram.messages_to(chat)
    assert len(replies) == 1, [(m.text or "")[:40] for m in replies]
    assert await inbox_rows(pg_url) == Counter({UpdateStatus.DONE.value: 1})
