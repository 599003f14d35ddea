"""Reading what people type (word lists in `actions/data/phrases.yml`, not things the bot says:
those live in dialogues/responses*.yml): "I don't know", wishes, goals, pronouns to turn
around, questions about when money expires, progress in plain words, clock times in words."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from core.yaml_files import load_yaml
from knowledge.text import fold

PHRASES_FILE = Path(__file__).resolve().parent / "data" / "phrases.yml"
_WORD_RE = re.compile(r"[\w']+", re.UNICODE)
_CLOCK_RE = re.compile(r"\b(?P<h>[01]?\d|2[0-3])\s*[:.hu]\s*(?P<m>[0-5]\d)\b")
_HOUR_RE = re.compile(r"\b(?:om\s+)?(?P<h>[01]?\d|2[0-3])(?:\s*(?:uur|u)\b|\s*$)")
_TYPO_MIN_LENGTH = 6
_TYPO_SCORE = 85.0
_NAME_WORD_LENGTH = 5


@cache
def _data() -> dict[str, Any]:
    loaded: dict[str, Any] = load_yaml(PHRASES_FILE)
    return loaded


def phrase_table(name: str) -> dict[str, list[str]]:
    """A named table of word lists (such as `regulation_topics`), as written in the file."""
    table: dict[str, list[str]] = _data()[name]
    return table


@cache
def phrases(name: str) -> tuple[str, ...]:
    """The folded phrases of one list, longest first (so "ik wil graag" goes before "ik wil")."""
    return tuple(sorted((fold(str(p)) for p in _data()[name]), key=len, reverse=True))


def starts_with_phrase(text: str, phrase: str) -> bool:
    """`phrase` as the whole of `text` or its first words: "pas maar", not "pastoraal"."""
    return text == phrase or (text.startswith(phrase) and not text[len(phrase)].isalnum())


def swap_pronouns(text: str) -> str:
    """ "mijn examen" -> "je examen": what the user said, as the bot says it back."""
    swaps: dict[str, str] = {fold(k): v for k, v in _data()["pronoun_swaps"].items()}

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        return swaps.get(fold(word), word)

    return re.sub(r"[\w']+", swap, text).strip()


def mentions(text: object, phrases: list[str]) -> bool:
    """Does the text use one of these words (as a word beginning, or with one typo in a longer
    word) or phrases?"""
    if not isinstance(text, str) or not text.strip():
        return False
    folded = fold(text)
    words = _WORD_RE.findall(folded)
    for phrase in (fold(str(p)) for p in phrases):
        if " " in phrase:
            if phrase in folded:
                return True
            continue
        for word in words:
            if word.startswith(phrase):
                return True
            if len(phrase) >= _TYPO_MIN_LENGTH and fuzz.ratio(word, phrase) >= _TYPO_SCORE:
                return True
    return False


def asks_expiry(text: object) -> bool:
    """Does this question ask when money expires ("wanneer vervalt mijn budget?")?"""
    return mentions(text, _data()["expiry_words"])


def progress_step_keys(text: object) -> list[str]:
    """The loop step texts (keys) a progress message is about, in the list's order."""
    steps: dict[str, list[str]] = _data()["progress_steps"]
    return [key for key, words in steps.items() if words and mentions(text, words)]


def says_finished(text: object) -> bool:
    """ "ik heb mijn papieren gehaald": the course itself is done."""
    return mentions(text, _data()["progress_finished"])


def looks_like(text: object, title: str) -> float:
    """How much the text names this title (0-100, typo-tolerant)."""
    if not isinstance(text, str):
        return 0.0
    name = fold(title)
    acronyms = {fold(w) for w in _WORD_RE.findall(title) if w.isupper() and len(w) > 1}
    best = 0.0
    for word in _WORD_RE.findall(fold(text)):
        if len(word) >= _NAME_WORD_LENGTH:
            best = max(best, float(fuzz.partial_ratio(word, name)))
        elif word in acronyms:  # "vca", "bhv"
            best = 100.0
    return best


def clock_minute(text: object) -> int | None:
    """Minutes after midnight of a typed clock time: "12:23", "9 uur", "half negen 's avonds",
    "kwart over 8"; None when the text is no time."""
    if not isinstance(text, str):
        return None
    folded = fold(text).strip(" .!?")
    hours = {fold(k): int(v) for k, v in _data()["hour_words"].items()}
    later = any(fold(w) in folded for w in _data()["afternoon_words"])

    def hour_of(word: str) -> int | None:
        if word.isdigit() and 0 <= int(word) <= 24:
            return int(word)
        return hours.get(word)

    hour: int | None = None
    minute = 0
    if clock := _CLOCK_RE.search(folded):
        hour, minute = int(clock["h"]), int(clock["m"])
    else:
        words = _WORD_RE.findall(folded)
        for i, word in enumerate(words):
            rest = words[i + 1 :]
            if word == "half" and rest and (base := hour_of(rest[0])) is not None:
                hour, minute = base - 1, 30
            elif (
                word == "kwart"
                and len(rest) > 1
                and rest[0] in ("over", "voor")
                and (base := hour_of(rest[1])) is not None
            ):
                hour, minute = (base, 15) if rest[0] == "over" else (base - 1, 45)
            if hour is not None:
                break
        if hour is None and (found := _HOUR_RE.search(folded)):
            hour = int(found["h"])
        if hour is None:
            named = [hours[w] for w in words if w in hours]
            if len(named) == 1 and ("uur" in words or len(words) <= 2 or later):
                hour = named[0]
    if hour is None:
        return None
    hour %= 24
    if later and hour < 12:
        hour += 12
    return hour * 60 + minute
