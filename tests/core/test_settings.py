from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from core.settings import Settings


def make(**env: str) -> Settings:
    kwargs: dict[str, Any] = {"_env_file": None, **env}
    return Settings(**kwargs)


def test_defaults() -> None:
    s = make()
    assert s.database_url == "sqlite+aiosqlite:///./var/leerloop.db"
    assert (s.http_host, s.http_port) == ("127.0.0.1", 8080)
    assert s.timezone == "Europe/Amsterdam"
    assert s.telegram_api_base_url == "https://api.telegram.org"
    assert not s.telegram_enabled


def test_reads_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:abc")
    monkeypatch.setenv("HTTP_PORT", "9000")
    s = Settings(_env_file=None)
    assert s.telegram_enabled
    assert s.telegram_bot_token is not None
    assert s.telegram_bot_token.get_secret_value() == "1:abc"
    assert "1:abc" not in repr(s)  # secrets never show up in reprs or logs
    assert s.http_port == 9000


def test_reads_dotenv(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("DATABASE_URL=postgresql://u:p@localhost/db\n")
    s = Settings(_env_file=str(env))
    assert s.database_url == "postgresql+asyncpg://u:p@localhost/db"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://127.0.0.1:8081", "http://127.0.0.1:8081"),
        ("http://127.0.0.1:8081/", "http://127.0.0.1:8081"),
        ("https://api.telegram.org/bot", "https://api.telegram.org"),
    ],
)
def test_api_base_url_forms(given: str, expected: str) -> None:
    assert make(TELEGRAM_API_BASE_URL=given).telegram_api_base_url == expected


def test_webhook_needs_a_valid_secret() -> None:
    with pytest.raises(ValidationError, match="TELEGRAM_WEBHOOK_SECRET is required"):
        make(TELEGRAM_WEBHOOK_URL="https://example.org/telegram/webhook")
    with pytest.raises(ValidationError, match="1-256 characters"):
        make(TELEGRAM_WEBHOOK_URL="https://example.org/hook", TELEGRAM_WEBHOOK_SECRET="no spaces!")
    ok = make(TELEGRAM_WEBHOOK_URL="https://example.org/hook", TELEGRAM_WEBHOOK_SECRET="s3cr-et_")
    assert ok.telegram_webhook_secret is not None


def test_production_refuses_plain_http_webhook() -> None:
    with pytest.raises(ValidationError, match="https"):
        make(
            LEERLOOP_ENV="production",
            TELEGRAM_WEBHOOK_URL="http://example.org/hook",
            TELEGRAM_WEBHOOK_SECRET="abc",
        )


def test_unknown_time_zone() -> None:
    with pytest.raises(ValidationError, match="unknown time zone"):
        make(LEERLOOP_TIMEZONE="Europe/Atlantis")
