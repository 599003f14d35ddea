"""The one boundary for text from outside: chat messages (every channel) and API input.

PostgreSQL cannot store U+0000 in a text column, and control characters, lone surrogates and
invisible format characters (zero-width, bidi overrides) mean nothing to a reader. Chat text is
*cleaned* (the person meant the words around them) and limited in length; API input is
*refused* with the field that holds the character, so a client learns exactly what to fix.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator

# What a stored text may never hold: C0 controls other than tab/newline/carriage return, DEL,
# C1 controls and lone surrogates (they cannot even be encoded as UTF-8).
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

# The same rule as a JSON-Schema pattern (ECMA-262 and Python `re` read it alike), put on every
# string of the API's OpenAPI document so the document says what the API accepts.
SAFE_TEXT_PATTERN = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"

# OpenAPI extension on an operation that takes chat text (Rasa's `/model/parse`): its strings
# are cleaned like a chat message, not refused, so they carry no SAFE_TEXT_PATTERN.
TEXT_CLEANED = "x-text-cleaned"

# Longest chat message the dialogue takes (a goal, an answer, a search). A reply that echoes it
# twice still fits in one Telegram message.
CHAT_TEXT_LIMIT = 1000

_ZWJ = "\u200d"  # joins emoji sequences (👩‍💻): the only format character that keeps meaning
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def find_unsafe(text: str) -> str | None:
    """The first character an API text may not hold, as `U+XXXX`, or None."""
    found = _UNSAFE.search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"


def unsafe_fields(value: Any, path: tuple[str, ...] = ()) -> list[dict[str, str]]:
    """Every string inside a decoded JSON value that holds an unsafe character (422 details)."""
    problems: list[dict[str, str]] = []
    if isinstance(value, str):
        char = find_unsafe(value)
        if char is not None:
            field = ".".join(path) or "body"
            problems.append({"field": field, "reason": f"contains the control character {char}"})
    elif isinstance(value, dict):
        for key, item in value.items():
            problems += unsafe_fields(str(key), (*path, "<key>"))
            problems += unsafe_fields(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            problems += unsafe_fields(item, (*path, str(index)))
    return problems


def no_numbers(value: Any) -> Any:
    """For dates and times: refuse a bare number (pydantic would read 0 as 1970-01-01)."""
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
        raise ValueError("give an ISO 8601 date or time, not a number")
    return value


def no_fractions(value: Any) -> Any:
    """For whole numbers: refuse 1.0 and true, which pydantic would read as 1."""
    if isinstance(value, float | bool):
        raise ValueError("give a whole number (an integer)")
    return value


WholeNumber = Annotated[int, BeforeValidator(no_fractions)]

# A date or time from outside is an ISO 8601 string, as the OpenAPI document says.
IsoDate = Annotated[date, BeforeValidator(no_numbers)]
IsoDateTime = Annotated[datetime, BeforeValidator(no_numbers)]


@dataclass(frozen=True)
class ChatText:
    """A chat message after the boundary: `text` is safe to store and to show again."""

    text: str
    too_long: bool = False

    @property
    def empty(self) -> bool:
        return not self.text


def _keep(char: str) -> bool:
    if char in "\n" or char == _ZWJ:
        return True
    category = unicodedata.category(char)
    # Cc: controls (NUL ...), Cf: zero-width and bidi controls, Cs: lone surrogates,
    # Co/Cn: private use and unassigned code points.
    return category[0] != "C"


def clean_chat_text(raw: str, limit: int = CHAT_TEXT_LIMIT) -> ChatText:
    """Clean a typed message: invisible and control characters out, spaces tidied, NFC.

    The result is empty when nothing readable is left; `too_long` when it has more than `limit`
    characters (the text is then cut at `limit`, for whoever wants to show the start).
    """
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = unicodedata.normalize("NFC", text)
    text = "".join(char for char in text if _keep(char))
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    text = _BLANK_LINES.sub("\n\n", text).strip()
    if text.strip(_ZWJ) == "":
        text = ""
    if len(text) > limit:
        return ChatText(text[:limit], too_long=True)
    return ChatText(text)


__all__ = [
    "CHAT_TEXT_LIMIT",
    "SAFE_TEXT_PATTERN",
    "TEXT_CLEANED",
    "ChatText",
    "IsoDate",
    "IsoDateTime",
    "WholeNumber",
    "clean_chat_text",
    "find_unsafe",
    "no_fractions",
    "no_numbers",
    "unsafe_fields",
]
