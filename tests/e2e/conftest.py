from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import Services
from bot._interpreter import NluInterpreter
from bot.telegram_channel import TelegramChannel
from core.settings import Settings
from tests.support import FakeTelegram
from tests.support.databases import seeded_sqlite


@pytest.fixture
async def e2e_settings(tmp_path: Path, fake_telegram: FakeTelegram) -> Settings:
    return Settings(
        _env_file=None,
        TELEGRAM_BOT_TOKEN=fake_telegram.token,
        TELEGRAM_API_BASE_URL=fake_telegram.base_url,
        DATABASE_URL=await seeded_sqlite(tmp_path / "e2e.db"),
        # A test user types the next message the moment the last reply is there, so with
        # Telegram's pace (a burst, then one a second per chat) a long conversation waits
        # most of its time. The pace itself is tested with a fake clock
        # (tests/bot/test_rate_limit.py); here it is ten times faster.
        TELEGRAM_CHAT_INTERVAL=0.1,
    )


@pytest.fixture
async def telegram_bot(
    e2e_settings: Settings, interpreter: NluInterpreter
) -> AsyncIterator[TelegramChannel]:
    """The real PTB application, polling the fake Bot API over HTTP."""
    services = await Services.start(e2e_settings, interpreter=interpreter)
    channel = TelegramChannel(services)
    await channel.start()
    yield channel
    await channel.stop()
    await services.close()
