"""The Telegram channel through python-telegram-bot's `Application.process_update`.

No polling and no waiting: each update goes straight into the real PTB application, which calls
the fake Bot API on 127.0.0.1 over HTTP for everything it sends. When `process_update` returns,
every call of that turn has been made, so these tests are exact and fast. The e2e tests keep the
polling, webhook and process paths.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from telegram import Update

from bot import Services
from bot._interpreter import NluInterpreter
from bot.telegram_channel import TelegramChannel
from core.models import Channel, User
from core.settings import Settings
from dialogues import Answer, encode
from tests.support import FakeTelegram
from tests.support.databases import seeded_sqlite
from tests.support.fake_telegram import SentMessage

CHAT = 7771234


@pytest.fixture
async def channel(
    tmp_path: Path, fake_telegram: FakeTelegram, interpreter: NluInterpreter
) -> AsyncIterator[TelegramChannel]:
    settings = Settings(
        _env_file=None,
        TELEGRAM_BOT_TOKEN=fake_telegram.token,
        TELEGRAM_API_BASE_URL=fake_telegram.base_url,
        DATABASE_URL=await seeded_sqlite(tmp_path / "channel.db"),
    )
    services = await Services.start(settings, interpreter=interpreter)
    channel = TelegramChannel(services)
    await channel.app.initialize()  # getMe over HTTP; no polling, no webhook
    yield channel
    await channel.app.shutdown()
    await services.close()


async def _process(channel: TelegramChannel, update: dict[str, Any]) -> None:
    await channel.app.process_update(Update.de_json(update, channel.app.bot))


async def _say(channel: TelegramChannel, fake: FakeTelegram, text: str) -> list[SentMessage]:
    """Type `text`; return what the bot sent in answer."""
    before = len(fake.messages_to(CHAT))
    await _process(channel, fake.text_update(CHAT, text))
    return fake.messages_to(CHAT)[before:]


async def _press(
    channel: TelegramChannel, fake: FakeTelegram, message: SentMessage, label: str
) -> list[SentMessage]:
    before = len(fake.messages_to(CHAT))
    await _process(channel, fake.button_update(message, label))
    return fake.messages_to(CHAT)[before:]


async def _user(channel: TelegramChannel) -> User | None:
    async with channel.services.sessions() as session:
        stmt = select(User).where(User.channel == Channel.TELEGRAM, User.external_id == str(CHAT))
        return (await session.execute(stmt)).scalar_one_or_none()


async def _consented(channel: TelegramChannel, fake: FakeTelegram) -> None:
    [welcome] = await _say(channel, fake, "/start")
    await _press(channel, fake, welcome, "Ja, dat is goed")


async def test_a_command_gets_its_reply_with_buttons(
    channel: TelegramChannel, fake_telegram: FakeTelegram
) -> None:
    [welcome] = await _say(channel, fake_telegram, "/start")
    assert welcome.text is not None and welcome.text.startswith("Hoi! Ik ben Leerloop")
    assert [label for label, _ in welcome.buttons] == [
        "Ja, dat is goed",
        "Nee, liever niet",
        "Vertel meer",
    ]
    assert all(len(data.encode()) <= 64 for _, data in welcome.buttons)


async def test_a_press_is_answered_marked_in_the_question_and_passed_on(
    channel: TelegramChannel, fake_telegram: FakeTelegram
) -> None:
    [welcome] = await _say(channel, fake_telegram, "/start")
    [thanks] = await _press(channel, fake_telegram, welcome, "Ja, dat is goed")
    assert thanks.text is not None and "Dank je!" in thanks.text
    assert len(fake_telegram.method_calls("answerCallbackQuery")) == 1  # the spinner stops
    [edit] = fake_telegram.edits
    assert int(edit["message_id"]) == welcome.message_id
    assert edit["text"] == f"{welcome.text}\n\n→ Ja, dat is goed"
    user = await _user(channel)
    assert user is not None and user.consent and user.name == "Anna"


async def test_a_stale_button_from_an_old_message_gets_a_kind_answer(
    channel: TelegramChannel, fake_telegram: FakeTelegram
) -> None:
    await _consented(channel, fake_telegram)
    old = SentMessage(
        chat_id=CHAT,
        message_id=1,
        text="Een oude vraag",
        buttons=[("Oud", encode(Answer(flow="no_such_flow", step="gone", value="x")))],
    )
    replies = await _press(channel, fake_telegram, old, "Oud")
    assert replies, "a press on an old button is never silent"
    assert all(r.text for r in replies)
    assert not any("misgegaan" in (r.text or "") for r in replies)


async def test_the_export_arrives_as_a_json_document(
    channel: TelegramChannel, fake_telegram: FakeTelegram
) -> None:
    await _consented(channel, fake_telegram)
    [overview] = await _say(channel, fake_telegram, "/privacy")
    replies = await _press(channel, fake_telegram, overview, "Stuur mijn gegevens")
    [document] = [m for m in replies if m.method == "sendDocument"]
    assert document.document is not None
    filename, content = document.document
    assert filename.startswith("leerloop-gegevens-") and filename.endswith(".json")
    assert json.loads(content)["user"]["external_id"] == str(CHAT)


async def test_a_blocked_chat_is_marked_and_gets_no_error_message(
    channel: TelegramChannel, fake_telegram: FakeTelegram
) -> None:
    await _consented(channel, fake_telegram)
    fake_telegram.fail_next("sendMessage", 403)
    assert await _say(channel, fake_telegram, "/help") == []
    user = await _user(channel)
    assert user is not None and user.blocked
    assert len(fake_telegram.method_calls("sendMessage")) == 3  # welcome, thanks, the 403


async def test_a_failed_send_ends_in_a_friendly_error_not_in_silence(
    channel: TelegramChannel, fake_telegram: FakeTelegram
) -> None:
    await _consented(channel, fake_telegram)
    fake_telegram.fail_next("sendMessage", 400)
    [error] = await _say(channel, fake_telegram, "/help")
    assert error.text == channel.services.dialogue.responses.render("error_generic")


async def test_a_429_on_a_reply_is_waited_out_and_sent(
    channel: TelegramChannel, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.fail_next("sendMessage", 429, retry_after=1)
    [welcome] = await _say(channel, fake_telegram, "/start")
    assert welcome.text is not None and welcome.text.startswith("Hoi!")
    assert len(fake_telegram.method_calls("sendMessage")) == 2
