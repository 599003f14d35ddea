"""Regulations: validation, storage (admin API), finding one by name, and open alternatives."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator, model_validator
from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.text_input import IsoDate
from knowledge.models import Regulation
from knowledge.text import fold

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,79}$"
KINDS = ("subsidie", "lening", "fiscaal", "advies", "budget", "fonds", "beleid")
_FUZZY_CUTOFF = 85


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
        return self


class RegulationOut(RegulationIn):
    slug: str
    status: str  # "open", "ended" or "not_started" on the day of the request


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
        return "not_started"
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
    values = body.model_dump()
    values["source_url"] = str(body.source_url)
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
    return [
        r
        for r in await list_regulations(session)
        if r.country == "NL"
        and r.slug not in seen
        and r.kind in ("subsidie", "lening", "budget", "fonds")
        and r.is_open(today)
    ]
