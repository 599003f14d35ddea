"""Reusable test fixtures: a fake Telegram Bot API server and database helpers."""

from tests.support.fake_telegram import FakeTelegram, SentMessage

__all__ = ["FakeTelegram", "SentMessage"]
