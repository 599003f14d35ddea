"""One validated settings object, read from the environment and `.env`."""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Every setting Leerloop reads. Secrets are `SecretStr` and only come from the environment."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Environment = Field(default=Environment.DEVELOPMENT, alias="LEERLOOP_ENV")
    telegram_bot_token: SecretStr | None = Field(default=None, alias="TELEGRAM_BOT_TOKEN")
    # For invite links (t.me/<bot>?start=team_<code>) made by the HTTP API.
    telegram_bot_username: str = Field(default="LeerloopBot", alias="TELEGRAM_BOT_USERNAME")
    telegram_api_base_url: str = Field(
        default="https://api.telegram.org", alias="TELEGRAM_API_BASE_URL"
    )
    telegram_webhook_url: str | None = Field(default=None, alias="TELEGRAM_WEBHOOK_URL")
    telegram_webhook_secret: SecretStr | None = Field(default=None, alias="TELEGRAM_WEBHOOK_SECRET")
    database_url: str = Field(default="sqlite+aiosqlite:///./var/leerloop.db", alias="DATABASE_URL")
    http_host: str = Field(default="127.0.0.1", alias="HTTP_HOST")
    http_port: int = Field(default=8080, ge=0, le=65535, alias="HTTP_PORT")
    timezone: str = Field(default="Europe/Amsterdam", alias="LEERLOOP_TIMEZONE")
    export_dir: str = Field(default="./var/exports", alias="LEERLOOP_EXPORT_DIR")
    log_level: str = Field(default="INFO", alias="LOG_LEVEL")
    # Telegram's flood limits: broadcasts (nudges, campaigns) per second overall, per chat, per
    # group (0 = no limit, e.g. against a local test server). Replies are limited per chat only.
    telegram_max_per_second: int = Field(default=30, ge=0, alias="TELEGRAM_MAX_PER_SECOND")
    telegram_chat_interval: float = Field(default=1.0, ge=0, alias="TELEGRAM_CHAT_INTERVAL")
    telegram_group_per_minute: int = Field(default=20, ge=0, alias="TELEGRAM_GROUP_PER_MINUTE")
    # Updates handled at the same time (different chats; one chat's updates stay in order).
    telegram_concurrent_updates: int = Field(default=64, ge=1, alias="TELEGRAM_CONCURRENT_UPDATES")
    # The nudge engine: how often it looks for due messages, and how many it has underway at once.
    nudge_tick_seconds: float = Field(default=5.0, gt=0, alias="NUDGE_TICK_SECONDS")
    nudge_concurrency: int = Field(default=16, ge=1, alias="NUDGE_CONCURRENCY")
    # How long a claim on an outbox row or an inbox update holds before another process may take
    # it back (only a process that died holds one that long).
    lease_seconds: float = Field(default=60.0, gt=0, alias="LEERLOOP_LEASE_SECONDS")
    # Telegram's paid broadcasts: up to 1000 messages/s, charged in Stars. Off unless chosen.
    telegram_allow_paid_broadcast: bool = Field(
        default=False, alias="TELEGRAM_ALLOW_PAID_BROADCAST"
    )
    # Replies: a burst of this many to one chat at once, then one per chat interval.
    telegram_chat_burst: int = Field(default=5, ge=1, alias="TELEGRAM_CHAT_BURST")
    # Shared rate limits across processes: Redis when set, else PostgreSQL (SQLite: one process).
    redis_url: SecretStr | None = Field(default=None, alias="REDIS_URL")
    # Example courses (clearly marked) on first start; set false for a production catalogue.
    seed_examples: bool = Field(default=True, alias="LEERLOOP_SEED_EXAMPLES")
    # The web portal: the address people open (sign-in links point there; empty: the HTTP
    # server's own address) and how long a one-time sign-in link works.
    portal_base_url: str | None = Field(default=None, alias="PORTAL_BASE_URL")
    portal_link_minutes: int = Field(default=15, ge=1, le=1440, alias="PORTAL_LINK_MINUTES")
    # Rasa's `--auth-token`: asked by `/model/parse` and the action server when set.
    rasa_token: SecretStr | None = Field(default=None, alias="RASA_TOKEN")

    @field_validator(
        "telegram_bot_token",
        "telegram_webhook_secret",
        "telegram_webhook_url",
        "portal_base_url",
        "rasa_token",
        "redis_url",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("telegram_api_base_url")
    @classmethod
    def _strip_base_url(cls, value: str) -> str:
        value = value.rstrip("/")
        # Accept the form python-telegram-bot documents ("https://api.telegram.org/bot") too.
        return value.removesuffix("/bot")

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        for plain, driver in (
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
            ("sqlite://", "sqlite+aiosqlite://"),
        ):
            if value.startswith(plain):
                return driver + value.removeprefix(plain)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone: {value}") from exc
        return value

    @model_validator(mode="after")
    def _safe_webhook(self) -> Settings:
        if self.telegram_webhook_url:
            secret = self.telegram_webhook_secret
            if secret is None:
                raise ValueError(
                    "TELEGRAM_WEBHOOK_SECRET is required when TELEGRAM_WEBHOOK_URL is set"
                )
            if not _SECRET_TOKEN_RE.match(secret.get_secret_value()):
                raise ValueError(
                    "TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ or -"
                )
            if (
                self.environment is Environment.PRODUCTION
                and not self.telegram_webhook_url.startswith("https://")
            ):
                raise ValueError("TELEGRAM_WEBHOOK_URL must use https in production")
        if (
            self.environment is Environment.PRODUCTION
            and self.portal_base_url
            and not self.portal_base_url.startswith("https://")
        ):
            raise ValueError("PORTAL_BASE_URL must use https in production")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def portal_url(self) -> str:
        """Where the portal is reached from a browser (for sign-in links)."""
        if self.portal_base_url:
            return self.portal_base_url.rstrip("/")
        return f"http://{self.http_host}:{self.http_port}"

    @property
    def secure_cookies(self) -> bool:
        """Cookies only over https, everywhere but in development."""
        return self.environment is not Environment.DEVELOPMENT

    @property
    def telegram_enabled(self) -> bool:
        return self.telegram_bot_token is not None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (read once)."""
    return Settings()
