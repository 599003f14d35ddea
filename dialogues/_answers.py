"""One matcher for typed answers to a question with buttons, used by every flow.

People type instead of tapping: a number ("3"), the label with a typo ("heel goud"), a phrase
that means an option ("gaat wel", "heel goed, dat doe ik elke dag"), or plain yes and no ("ja
hoor", 👍). In that order the matcher tries:

1. a number: the option whose label starts with it ("3 – goed"), else the n-th button;
2. the label or the value itself;
3. phrases for an option (`dialogues/answers.yml`, by the label's text key), then the label as a
   whole phrase inside the answer — the longest that fits;
4. yes and no: the option that lists the intent affirm / deny;
5. a close spelling of a label (typos);
6. the NLU: the option that lists the intent it found.

When two options fit equally well the matcher is unsure and the manager asks once, with the
buttons, staying in the flow.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict
from rapidfuzz import fuzz

from core.yaml_files import load_yaml

ANSWERS_FILE = Path(__file__).resolve().parent / "answers.yml"
AFFIRM, DENY = "affirm", "deny"
# How sure the NLU must be before its intent picks an option.
NLU_CONFIDENCE = 0.6
FUZZY_SCORE = 84

_ORDINALS = {
    "een": 1,
    "eerste": 1,
    "twee": 2,
    "tweede": 2,
    "drie": 3,
    "derde": 3,
    "vier": 4,
    "vierde": 4,
    "vijf": 5,
    "vijfde": 5,
    "zes": 6,
    "zesde": 6,
    "laatste": -1,
}
_NUMBER_RE = re.compile(
    r"^(?:(?:nummer|nr|optie|keuze|knop|de|het)\s+)?(?P<n>\d{1,2}|[a-z]+)(?:\s+(?:graag|dan))?$"
)
_LEADING_NUMBER_RE = re.compile(r"^(?P<n>\d{1,2})\b")


def fold(text: str) -> str:
    """Lower case, no accents, punctuation as spaces, emoji kept: "Heel goed!!" -> "heel goed"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = []
    for char in decomposed:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Cf", "Sk"):
            continue  # accents, zero-width characters, skin tones
        category = unicodedata.category(char)
        kept.append(" " if category.startswith(("P", "Z", "C")) else char)
    return " ".join("".join(kept).split())


class _AnswersFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agree: list[str]
    refuse: list[str]
    greetings: list[str]
    options: dict[str, list[str]]


@dataclass(frozen=True)
class Choice:
    """A button as the user saw it: its value, its text, and what it also stands for."""

    value: str
    label: str
    label_key: str | None = None
    intents: tuple[str, ...] = ()


@dataclass(frozen=True)
class Matched:
    value: str


@dataclass(frozen=True)
class Unsure:
    """More than one button fits; ask again with these."""

    values: tuple[str, ...]


Outcome = Matched | Unsure | None


@dataclass(frozen=True)
class AnswerPhrases:
    yes: frozenset[str]
    no: frozenset[str]
    greetings: frozenset[str]
    options: dict[str, tuple[str, ...]]

    @classmethod
    @cache
    def load(cls, path: Path = ANSWERS_FILE) -> AnswerPhrases:
        data = _AnswersFile.model_validate(load_yaml(path))
        return cls(
            yes=frozenset(fold(p) for p in data.agree),
            no=frozenset(fold(p) for p in data.refuse),
            greetings=frozenset(fold(p) for p in data.greetings),
            options={k: tuple(fold(p) for p in v) for k, v in data.options.items()},
        )


def _label_words(label: str) -> str:
    """A label without its number or emoji: "3 – goed" -> "goed", "Klaar ✅" -> "klaar"."""
    words = [w for w in fold(label).split() if any(c.isalnum() for c in w)]
    if words and words[0].isdigit():
        words = words[1:]
    return " ".join(words)


_NEGATIONS = frozenset({"niet", "geen", "nooit", "niks", "niets"})


def _contains(text: str, phrase: str) -> bool:
    """The phrase as whole words in the text, and not negated ("niet zo goed" is no "goed")."""
    if not phrase:
        return False
    for m in re.finditer(rf"(?:^|\s){re.escape(phrase)}(?:\s|$)", text):
        before = text[: m.start()].split()[-2:]
        if not _NEGATIONS & set(before):
            return True
    return False


def _only(values: list[str]) -> Outcome:
    unique = list(dict.fromkeys(values))
    if len(unique) == 1:
        return Matched(unique[0])
    return Unsure(tuple(unique)) if unique else None


def match_answer(
    text: str,
    choices: Sequence[Choice],
    *,
    phrases: AnswerPhrases,
    intent: str | None = None,
    confidence: float = 0.0,
) -> Outcome:
    """Which button a typed answer stands for (None: it is not an answer to this question)."""
    said = fold(text)
    if not said or not choices:
        return None

    if (number := _number(said)) is not None:
        numbered = [
            c.value
            for c in choices
            if (m := _LEADING_NUMBER_RE.match(fold(c.label))) and int(m["n"]) == number
        ]
        if numbered:
            return _only(numbered)
        if number == -1:
            return Matched(choices[-1].value)
        if 1 <= number <= len(choices):
            return Matched(choices[number - 1].value)

    exact = [c.value for c in choices if said in (fold(c.label), _label_words(c.label), c.value)]
    if exact:
        return _only(exact)

    # Phrases for an option, and the label itself as a phrase: the longest that fits wins.
    best: list[tuple[int, str]] = []
    for choice in choices:
        candidates = [*phrases.options.get(choice.label_key or "", ()), _label_words(choice.label)]
        for phrase in candidates:
            if phrase and (said == phrase or _contains(said, phrase)):
                best.append((len(phrase), choice.value))
    if best:
        longest = max(length for length, _ in best)
        return _only([value for length, value in best if length == longest])

    yes_no = _yes_no(said, phrases)
    if yes_no is not None:
        found = [c.value for c in choices if yes_no in c.intents]
        if found:
            return _only(found)

    scored = sorted(
        ((fuzz.ratio(said, _label_words(c.label)), c.value) for c in choices),
        reverse=True,
    )
    if scored and scored[0][0] >= FUZZY_SCORE:
        close = [value for score, value in scored if score >= scored[0][0] - 3]
        return _only(close)

    if intent is not None and confidence >= NLU_CONFIDENCE:
        by_intent = [c.value for c in choices if intent in c.intents]
        if by_intent:
            return _only(by_intent)
    return None


def _number(said: str) -> int | None:
    m = _NUMBER_RE.match(said)
    if m is None:
        return None
    raw = m["n"]
    if raw.isdigit():
        return int(raw)
    return _ORDINALS.get(raw)


def _yes_no(said: str, phrases: AnswerPhrases) -> str | None:
    """affirm or deny when the answer is (or starts with) a yes or a no."""
    for kind, words in ((DENY, phrases.no), (AFFIRM, phrases.yes)):
        if said in words:
            return kind
    first = said.split()[0]
    if first in phrases.no:
        return DENY
    if first in phrases.yes and len(said.split()) <= 4:
        return AFFIRM
    return None


def is_yes_or_no(text: str, phrases: AnswerPhrases) -> str | None:
    """affirm / deny for a short yes or no typed when no question waits (a 👍 in between)."""
    said = fold(text)
    return _yes_no(said, phrases) if said and len(said.split()) <= 3 else None


# A greeting in front of a request: "Goedemiddag, ik zoek ..." / "hoi! wat kost ...".
_GREETING_RE = re.compile(
    r"^\s*(?P<greeting>[^\W\d]+(?:\s+[^\W\d]+)?)\s*[,!.:;-]*\s+(?P<rest>.+)$", re.S
)
MIN_REQUEST_WORDS = 3


def split_greeting(text: str, phrases: AnswerPhrases) -> tuple[str | None, str | None]:
    """(greeting, request) when a greeting opens a request of at least three words."""
    m = _GREETING_RE.match(text)
    if m is None:
        return None, None
    for greeting, rest in ((m["greeting"], m["rest"]), *_first_word(m["greeting"], m["rest"])):
        if fold(greeting) in phrases.greetings and len(rest.split()) >= MIN_REQUEST_WORDS:
            return greeting, rest.strip()
    return None, None


def _first_word(greeting: str, rest: str) -> list[tuple[str, str]]:
    words = greeting.split()
    return [(words[0], f"{words[1]} {rest}")] if len(words) == 2 else []
