"""Logging that never writes a token or personal data, at any level.

`configure_logging` puts a `RedactingFilter` on every handler of the root logger. The filter
formats each record once and then rewrites it:
- secrets it was given (the bot token, the webhook secret) and anything shaped like a bot token
  or a bearer token become `[redacted]`;
- the values of personal fields in the reprs and JSON that libraries log at DEBUG (an
  `Update`'s `text`, `first_name`, `caption`, ...) become `[redacted]`;
- records of database drivers and of SQLAlchemy's result rows lose their arguments (rows and
  parameters hold what people typed).
The same happens to the text of an exception's traceback.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

_BOT_TOKEN = re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{20,}")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")
_API_TOKEN = re.compile(r"\bll_[A-Za-z0-9_-]{20,}")
PERSONAL_FIELDS = (
    "text",
    "caption",
    "first_name",
    "last_name",
    "username",
    "name",
    "title",
    "phone_number",
    "display_name",
    "bio",
    "description",
    "query",
    "data",
    "question",
)
_FIELDS = "|".join(PERSONAL_FIELDS)
# key='value' / key="value" (reprs), "key": "value" (JSON), key=value (keyword reprs)
_QUOTED = re.compile(
    rf"""(?P<key>['"]?\b(?:{_FIELDS})\b['"]?\s*[:=]\s*)"""
    r"""(?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
)
_QUIET_ARGS = ("aiosqlite", "asyncpg", "sqlalchemy.pool")
REDACTED = "[redacted]"


class RedactingFilter(logging.Filter):
    """Rewrite each record so it holds no secret and no personal data (see the module doc)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        text = _BOT_TOKEN.sub(REDACTED, text)
        text = _API_TOKEN.sub(REDACTED, text)
        text = _BEARER.sub(lambda m: m.group(1) + REDACTED, text)
        return _QUOTED.sub(lambda m: f"{m.group('key')}'{REDACTED}'", text)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith(_QUIET_ARGS) or (
            record.name.startswith("sqlalchemy.engine") and record.levelno < logging.INFO
        ):
            message = str(record.msg) if not record.args else f"{record.msg} {REDACTED}"
        else:
            try:
                message = record.getMessage()
            except (TypeError, ValueError):  # a broken format string: keep only the template
                message = str(record.msg)
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
            record.exc_info = None  # the formatter would format it again, unredacted
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def install_redaction(handler: logging.Handler, secrets: Iterable[str] = ()) -> RedactingFilter:
    """Put a redacting filter on `handler` (idempotent)."""
    for existing in handler.filters:
        if isinstance(existing, RedactingFilter):
            existing.secrets = sorted(
                {*existing.secrets, *(s for s in secrets if s and len(s) >= 6)},
                key=len,
                reverse=True,
            )
            return existing
    redacting = RedactingFilter(secrets)
    handler.addFilter(redacting)
    return redacting


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    """Log to stderr at `level`, every handler of the root logger redacting."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    secrets = list(secrets)
    for handler in logging.getLogger().handlers:
        install_redaction(handler, secrets)
