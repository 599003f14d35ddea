"""The edges: Telegram and console channels, HTTP API, CLI and the wiring of one process."""

import os

# Opt in to python-telegram-bot's future behaviour (durations as timedelta) now, so its
# deprecation warning does not fire on every rate-limit answer.
os.environ.setdefault("PTB_TIMEDELTA", "1")

from bot._services import Services

__all__ = ["Services"]
