"""Things people type that actions recognise (`actions/data/phrases.yml`), folded for matching."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from knowledge.text import fold

PHRASES_FILE = Path(__file__).resolve().parent / "data" / "phrases.yml"


@cache
def _all() -> dict[str, tuple[str, ...]]:
    data = yaml.safe_load(PHRASES_FILE.read_text(encoding="utf-8"))
    return {name: tuple(fold(str(p)) for p in items) for name, items in data.items()}


def phrases(name: str) -> tuple[str, ...]:
    """The phrases of one list, longest first (so "ik wil graag" goes before "ik wil")."""
    return tuple(sorted(_all()[name], key=len, reverse=True))


def starts_with_phrase(text: str, phrase: str) -> bool:
    """`phrase` as the whole of `text` or its first words: "pas maar", not "pastoraal"."""
    return text == phrase or (text.startswith(phrase) and not text[len(phrase)].isalnum())
