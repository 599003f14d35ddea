"""Shared core: settings, database engine and sessions, ORM base and models."""

from core.settings import Settings, get_settings

__all__ = ["Settings", "get_settings"]
