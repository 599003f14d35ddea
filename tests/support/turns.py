"""Waiting for the bot's whole answer to one message, without guessing with sleeps.

The Telegram channel stores every update in its inbox and marks it "done" only after every
reply of that turn went out (services.inbox). So a turn is over once at least one new message
arrived and no update is open any more: exact, and as fast as the bot is.
"""

from __future__ import annotations

import asyncio
import time

from bot.telegram_channel import TelegramChannel
from services.inbox import has_open
from tests.support.fake_telegram import FakeTelegram, SentMessage


async def answer_to_one_turn(
    fake: FakeTelegram, bot: TelegramChannel, chat_id: int, before: int, timeout: float = 30.0
) -> list[SentMessage]:
    """The messages sent to `chat_id` after the first `before`, once the turn is done."""
    deadline = time.monotonic() + timeout
    while True:
        if len(fake.messages_to(chat_id)) > before:
            async with bot.services.sessions() as session:
                if not await has_open(session):
                    return fake.messages_to(chat_id)[before:]
        assert time.monotonic() < deadline, f"no complete answer to chat {chat_id}"
        await asyncio.sleep(0.02)
