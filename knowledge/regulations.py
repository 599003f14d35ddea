"""Regulations: validation, storage (admin API), finding one by name, open alternatives, and
the structured facts (each with its own source and review date) that answer specific questions."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator, model_validator
from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.text_input import IsoDate
from knowledge.models import Regulation
from knowledge.text import fold

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,79}$"
KINDS = ("subsidie", "lening", "fiscaal", "advies", "budget", "fonds", "beleid")
# Kinds that pay for learning: what "Dit kan nu wel" and the wallet offer instead.
PAYING_KINDS = ("subsidie", "lening", "budget", "fonds")
_FUZZY_CUTOFF = 85
# A source name that looks like a file ("regulations.md") is an internal name, never a source.
_FILE_NAME = re.compile(r"\.(md|ya?ml|csv|json|txt|py)\b", re.IGNORECASE)


class FactTopic(StrEnum):
    """What a fact answers (and what a question asks)."""

    STATUS = "status"  # is it open now, does it still exist
    WHO = "who"  # who may use it or applies
    AGE = "age"  # age limits
    AMOUNT = "amount"  # how much, which percentage (by level or firm size)
    RATE = "rate"  # interest rate
    WINDOW = "window"  # application windows and deadlines
    START = "start"  # when it started
    APPLY = "apply"  # how to apply
    REPAY = "repay"  # paying back a loan
    LEERWEG = "leerweg"  # BOL, BBL, part-time
    CONDITIONS = "conditions"  # the other rules


def _deep_url(value: AnyHttpUrl) -> AnyHttpUrl:
    """A source is the page itself: a bare homepage ("https://www.duo.nl") is refused."""
    parts = urlsplit(str(value))
    if parts.scheme not in ("http", "https"):
        raise ValueError("must be an http(s) URL")
    if parts.path.strip("/") == "" and not parts.query:
        raise ValueError("must be the page itself, not a homepage")
    return value


def _source_name(value: str) -> str:
    if _FILE_NAME.search(value):
        raise ValueError("must name a publication, not a file")
    return value


class RegulationFact(BaseModel):
    """One checked fact about a regulation, with its own provenance."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    topic: FactTopic
    text: str = Field(min_length=1, max_length=600)
    match: list[str] = Field(default_factory=list, max_length=20)
    below_age: int | None = Field(default=None, ge=0, le=120)  # applies under this age only
    indicative: bool = False
    source_name: str = Field(min_length=1, max_length=300)
    source_url: AnyHttpUrl
    checked_on: date
    review_by: date

    _url = field_validator("source_url")(_deep_url)
    _name = field_validator("source_name")(_source_name)

    @model_validator(mode="after")
    def _review_after_check(self) -> RegulationFact:
        if self.review_by < self.checked_on:
            raise ValueError("review_by is before checked_on")
        return self


class RegulationIn(BaseModel):
    """A regulation as an admin sends it (PUT body) or as it sits in the seed file."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=200)
    country: str = Field(default="NL", pattern=r"^[A-Z]{2}$")
    kind: str
    aliases: list[str] = Field(default_factory=list, max_length=30)
    summary: str = Field(min_length=1, max_length=2000)
    who: str = Field(default="", max_length=1000)
    amounts: str = Field(default="", max_length=1000)
    conditions: str = Field(default="", max_length=2000)
    how_to_apply: str = Field(default="", max_length=1000)
    valid_from: IsoDate | None = None
    valid_until: IsoDate | None = None
    replaced_by: list[str] = Field(default_factory=list, max_length=10)
    source_name: str = Field(min_length=1, max_length=300)
    source_url: AnyHttpUrl
    checked_on: IsoDate
    review_by: IsoDate | None = None
    min_age: int | None = Field(default=None, ge=0, le=120)
    max_age: int | None = Field(default=None, ge=0, le=120)
    facts: list[RegulationFact] = Field(default_factory=list, max_length=40)

    _url = field_validator("source_url")(_deep_url)
    _name = field_validator("source_name")(_source_name)

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in KINDS:
            raise ValueError(f"must be one of {', '.join(KINDS)}")
        return value

    @model_validator(mode="after")
    def _dates(self) -> RegulationIn:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValueError("valid_until is before valid_from")
        if self.review_by and self.review_by < self.checked_on:
            raise ValueError("review_by is before checked_on")
        return self


class RegulationOut(RegulationIn):
    slug: str
    status: str  # "open", "ended" or "planned" on the day of the request


class RegulationProblem(ValueError):
    """A regulation that cannot be stored as sent (unknown `replaced_by`, or still referenced)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def status(regulation: Regulation, today: date) -> str:
    if regulation.valid_until is not None and regulation.valid_until < today:
        return "ended"
    if regulation.valid_from is not None and regulation.valid_from > today:
        return "planned"
    return "open"


# How long a checked fact stays trusted before someone should look at its source again.
REVIEW_DAYS = 180


def review_due(regulation: Regulation) -> date:
    """The day this regulation's facts should be checked against the source again."""
    return regulation.checked_on + timedelta(days=REVIEW_DAYS)


def by_review(regulations: Iterable[Regulation]) -> list[Regulation]:
    """Regulations in review order: the longest overdue first."""
    return sorted(regulations, key=lambda r: (review_due(r), r.slug))


def regulation_out(regulation: Regulation, today: date) -> RegulationOut:
    return RegulationOut(
        slug=regulation.slug,
        status=status(regulation, today),
        title=regulation.title,
        country=regulation.country,
        kind=regulation.kind,
        aliases=list(regulation.aliases),
        summary=regulation.summary,
        who=regulation.who,
        amounts=regulation.amounts,
        conditions=regulation.conditions,
        how_to_apply=regulation.how_to_apply,
        valid_from=regulation.valid_from,
        valid_until=regulation.valid_until,
        replaced_by=list(regulation.replaced_by),
        source_name=regulation.source_name,
        source_url=AnyHttpUrl(regulation.source_url),
        checked_on=regulation.checked_on,
        review_by=regulation.review_by,
        min_age=regulation.min_age,
        max_age=regulation.max_age,
        facts=[RegulationFact.model_validate(f) for f in regulation.facts],
    )


async def list_regulations(session: AsyncSession) -> Sequence[Regulation]:
    return (await session.scalars(select(Regulation).order_by(Regulation.slug))).all()


async def get_regulation(session: AsyncSession, slug: str) -> Regulation | None:
    return await session.get(Regulation, slug)


async def put_regulation(
    *, session: AsyncSession, slug: str, data: RegulationIn | Mapping[str, Any]
) -> tuple[Regulation, bool]:
    """Create or replace a regulation; `replaced_by` must name existing regulations."""
    body = data if isinstance(data, RegulationIn) else RegulationIn.model_validate(data)
    for other in body.replaced_by:
        if other == slug:
            raise RegulationProblem("replaced_by", "a regulation cannot replace itself")
        if await session.get(Regulation, other) is None:
            raise RegulationProblem("replaced_by", f"unknown regulation: {other}")
    regulation = await session.get(Regulation, slug)
    created = regulation is None
    if regulation is None:
        regulation = Regulation(slug=slug)
        session.add(regulation)
    values = body.model_dump(mode="json")
    for key in ("valid_from", "valid_until", "checked_on", "review_by"):
        values[key] = getattr(body, key)
    for key, value in values.items():
        setattr(regulation, key, value)
    await session.flush()
    return regulation, created


async def delete_regulation(*, session: AsyncSession, slug: str) -> bool:
    regulation = await session.get(Regulation, slug)
    if regulation is None:
        return False
    referring = [r.slug for r in await list_regulations(session) if slug in r.replaced_by]
    if referring:
        raise RegulationProblem(
            "slug", f"still named in replaced_by of: {', '.join(sorted(referring))}"
        )
    await session.delete(regulation)
    return True


def _names(regulation: Regulation) -> list[str]:
    return [regulation.slug, regulation.title, *regulation.aliases]


def _key(text: str) -> str:
    return "".join(c for c in fold(text) if c.isalnum())


async def find_regulation(session: AsyncSession, name: str) -> Regulation | None:
    """The regulation a user means by `name` ("STAP", "stapbudget", "levenlang leren krediet")."""
    wanted = _key(name)
    if not wanted:
        return None
    regulations = await list_regulations(session)
    choices: dict[str, Regulation] = {}
    for regulation in regulations:
        for label in _names(regulation):
            key = _key(label)
            if key == wanted:
                return regulation
            choices.setdefault(key, regulation)
    found = process.extractOne(wanted, list(choices), scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF)
    return choices[found[0]] if found else None


async def open_regulations(
    session: AsyncSession,
    today: date,
    *,
    kinds: Sequence[str] = PAYING_KINDS,
    country: str = "NL",
    exclude: Sequence[str] = (),
) -> list[Regulation]:
    """Every regulation that is open today (never one whose end date has passed): the one list
    that the alternatives, the wallet, careers and nudges offer from."""
    return [
        r
        for r in await list_regulations(session)
        if r.country == country and r.kind in kinds and r.slug not in exclude and r.is_open(today)
    ]


async def open_alternatives(
    session: AsyncSession, regulation: Regulation, today: date
) -> list[Regulation]:
    """What is open now instead of an ended scheme: its successors (followed through ended
    ones), or else every open Dutch scheme that pays for learning."""
    found: list[Regulation] = []
    seen = {regulation.slug}
    queue = list(regulation.replaced_by)
    while queue:
        slug = queue.pop(0)
        if slug in seen:
            continue
        seen.add(slug)
        successor = await session.get(Regulation, slug)
        if successor is None:
            continue
        if successor.is_open(today):
            found.append(successor)
        else:
            queue.extend(successor.replaced_by)
    if found:
        return found
    return await open_regulations(session, today, exclude=sorted(seen))


def facts_of(regulation: Regulation) -> list[RegulationFact]:
    """The regulation's structured facts (validated again: the column is plain JSON)."""
    return [RegulationFact.model_validate(f) for f in regulation.facts or []]


@dataclass(frozen=True)
class StaleItem:
    """A regulation or one of its facts that is past its review date."""

    slug: str
    topic: str | None  # None: the regulation itself
    review_by: date | None  # None: never given a review date (also stale)
    source_url: str


async def stale_items(session: AsyncSession, today: date) -> list[StaleItem]:
    """What must be checked again: `review_by` before today (or missing)."""
    items: list[StaleItem] = []
    for regulation in await list_regulations(session):
        if regulation.review_by is None or regulation.review_by < today:
            items.append(
                StaleItem(regulation.slug, None, regulation.review_by, regulation.source_url)
            )
        for fact in facts_of(regulation):
            if fact.review_by < today:
                items.append(
                    StaleItem(
                        regulation.slug, fact.topic.value, fact.review_by, str(fact.source_url)
                    )
                )
    return items


_WORDS = re.compile(r"[\w'&-]+", re.UNICODE)
_MAX_WORDS = 5
_MIN_FUZZY_KEY = 5  # shorter names ("stap", "oom", "llk") must match exactly


async def named_in(session: AsyncSession, text: str) -> Regulation | None:
    """The regulation a sentence is about: the one whose names occur most often in it (exactly,
    or with a typo in names of five letters or more; a typo counts half), longer names counting
    more."""
    words = _WORDS.findall(fold(text))
    if not words:
        return None
    names: dict[str, list[Regulation]] = {}
    for regulation in await list_regulations(session):
        for label in _names(regulation):
            key = _key(label)
            if key:
                names.setdefault(key, [])
                if regulation not in names[key]:
                    names[key].append(regulation)
    fuzzy_keys = [k for k in names if len(k) >= _MIN_FUZZY_KEY]
    exact: dict[str, float] = {}
    typo: dict[str, float] = {}
    by_slug: dict[str, Regulation] = {}
    used: set[tuple[int, int]] = set()
    for size in range(min(_MAX_WORDS, len(words)), 0, -1):
        for begin in range(len(words) - size + 1):
            span = (begin, begin + size)
            if any(a <= begin and begin + size <= b for a, b in used):
                continue  # part of a longer name already found
            key = _key(" ".join(words[begin : begin + size]))
            if not key:
                continue
            hits = names.get(key)
            scores = exact
            if hits:
                used.add(span)
            elif len(key) >= _MIN_FUZZY_KEY + 1:
                found = process.extractOne(key, fuzzy_keys, scorer=fuzz.ratio, score_cutoff=88)
                hits = names[found[0]] if found else None
                scores = typo
            for regulation in hits or ():
                by_slug[regulation.slug] = regulation
                scores[regulation.slug] = scores.get(regulation.slug, 0.0) + 1 + len(key) / 100
    # A name with a typo counts only for a regulation not named exactly, and for half.
    scores = dict(exact)
    for slug, score in typo.items():
        if slug not in exact:
            scores[slug] = score / 2
    if not scores:
        return None
    best = max(scores, key=lambda slug: scores[slug])
    return by_slug[best]
