"""At LOG_LEVEL=DEBUG the log holds no token, no message text and no name (every library too)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot import Services
from bot._interpreter import NluInterpreter
from bot._logging import REDACTED, RedactingFilter, install_redaction
from bot.telegram_channel import TelegramChannel
from core.settings import Settings
from tests.support import FakeTelegram

pytestmark = pytest.mark.e2e

CHAT = 777001
NAME = "Zwaantje"
SECRET_WORDS = ("marsepeinbakker", "Kwakkelstraat", "Hoogeveenseweg")


@pytest.fixture
def debug_log() -> Iterator[tuple[io.StringIO, logging.Handler]]:
    """Everything logged at DEBUG, through the production filter, into a buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield buffer, handler
    root.removeHandler(handler)
    root.setLevel(old_level)


async def test_debug_log_holds_no_token_text_or_name(
    debug_log: tuple[io.StringIO, logging.Handler],
    e2e_settings: Settings,
    fake_telegram: FakeTelegram,
    interpreter: NluInterpreter,
) -> None:
    buffer, handler = debug_log
    install_redaction(handler, [fake_telegram.token])
    logging.getLogger().setLevel(logging.DEBUG)
    services = await Services.start(e2e_settings, interpreter=interpreter)
    channel = TelegramChannel(services)
    await channel.start()
    try:
        fake_telegram.push_text(CHAT, "/start", first_name=NAME)
        [welcome] = await fake_telegram.wait_for_messages(CHAT, 1, timeout=30)
        fake_telegram.push_button(welcome, "Ja, dat is goed", first_name=NAME)
        await fake_telegram.wait_for_messages(CHAT, 2, timeout=30)
        fake_telegram.push_text(CHAT, "/leerloop", first_name=NAME)
        await fake_telegram.wait_for_messages(CHAT, 3, timeout=30)
        fake_telegram.push_text(
            CHAT, f"ik wil {SECRET_WORDS[0]} worden\x00 aan de {SECRET_WORDS[1]}", first_name=NAME
        )
        await fake_telegram.wait_for_messages(CHAT, 4, timeout=30)
        fake_telegram.push_text(CHAT, f"ik woon aan de {SECRET_WORDS[2]} 12", first_name=NAME)
        await fake_telegram.wait_for_messages(CHAT, 5, timeout=30)
    finally:
        await channel.stop()
        await services.close()
    log = buffer.getvalue()
    assert "DEBUG" in log and "telegram" in log  # the libraries did log at DEBUG
    leaks = [w for w in (fake_telegram.token.split(":")[1], NAME, *SECRET_WORDS) if w in log]
    assert leaks == []
    assert REDACTED in log  # ... and something was taken out


def test_filter_redacts_reprs_json_tokens_and_tracebacks() -> None:
    redacting = RedactingFilter(["s3cret-webhook"])
    record = logging.LogRecord(
        "telegram.ext",
        logging.DEBUG,
        __file__,
        1,
        "update %s via %s with %s",
        (
            "Message(text='ik ben Pim \\'de\\' Vries', chat=Chat(first_name=\"Pim\"))",
            "https://api.telegram.org/bot123456:ABCdefGHIjklMNOpqrSTUvwxYZ/getMe",
            '{"first_name": "Pim", "update_id": 5, "secret": "s3cret-webhook"}',
        ),
        None,
    )
    try:
        raise ValueError("bad value 'Authorization: Bearer ll_abcdefghijklmnopqrstuvwxyz123'")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert redacting.filter(record)
    line = logging.Formatter().format(record)
    for leak in ("Pim", "Vries", "ABCdefGHI", "s3cret-webhook", "ll_abcdefghij"):
        assert leak not in line, leak
    assert "update_id" in line  # what is not personal stays readable
