"""The edges: Telegram and console channels, HTTP API, CLI and the wiring of one process."""

from bot._services import Services

__all__ = ["Services"]
