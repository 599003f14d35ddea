"""The learning wallet's rules, on plain data (no database): what is available, which money a
booking takes, what a cancellation gives back.

Money comes in lots (credit rows), each with its own expiry and optional earmark. A booking
takes from the eligible lots that expire soonest first (earmarked money before general money
when they expire together), never more than a lot holds. A lot counts until the day it
expires: on `expires_on` it no longer counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Earmark:
    """What earmarked money may pay for: a course with one of these topics (as the catalogue
    names them, lower case), one of these ESCO skills (URIs; a broader skill group covers its
    narrower skills) or one of these course ids. `label` is what the worker reads."""

    topics: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    course_ids: tuple[str, ...] = ()
    label: str = ""

    def covers(
        self,
        *,
        topics: Iterable[str] = (),
        skills: Iterable[str] = (),
        course_id: str = "",
    ) -> bool:
        """Does the money pay for a course with these topics, skills (URIs, with their broader
        groups) and id?"""
        if course_id and course_id in self.course_ids:
            return True
        if self.topics and {t.casefold() for t in topics} & set(self.topics):
            return True
        return bool(self.skills and set(skills) & set(self.skills))

    def to_json(self) -> dict[str, Any]:
        return {
            "topics": list(self.topics),
            "skills": list(self.skills),
            "course_ids": list(self.course_ids),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None, label: str | None = None) -> Earmark | None:
        if not data:
            return None
        return cls(
            topics=tuple(data.get("topics") or ()),
            skills=tuple(data.get("skills") or ()),
            course_ids=tuple(data.get("course_ids") or ()),
            label=label or "",
        )


@dataclass(frozen=True)
class Lot:
    id: int
    amount_cents: int
    expires_on: date | None = None
    earmark: str | None = None  # the label; with `rule`, what it means
    rule: Earmark | None = None

    @property
    def earmarked(self) -> bool:
        return bool(self.earmark or self.rule)


@dataclass(frozen=True)
class Movement:
    """A reservation (negative) or release (positive) of money in one lot for one booking."""

    lot_id: int
    amount_cents: int
    booking_id: int


@dataclass(frozen=True)
class Shortfall:
    """A booking that does not fit: how much is missing."""

    missing_cents: int
    available_cents: int


Eligible = Callable[[Lot], bool]


def everything(_lot: Lot) -> bool:
    return True


def is_live(lot: Lot, today: date) -> bool:
    return lot.expires_on is None or today < lot.expires_on


def remaining(lot: Lot, movements: Iterable[Movement]) -> int:
    return lot.amount_cents + sum(m.amount_cents for m in movements if m.lot_id == lot.id)


def available(
    lots: Sequence[Lot],
    movements: Sequence[Movement],
    today: date,
    eligible: Eligible = everything,
) -> int:
    """What may still be spent today (optionally: only lots eligible for one course)."""
    return sum(remaining(lot, movements) for lot in lots if is_live(lot, today) and eligible(lot))


def spending_order(lots: Sequence[Lot], today: date, eligible: Eligible) -> list[Lot]:
    live = [lot for lot in lots if is_live(lot, today) and eligible(lot)]
    return sorted(
        live,
        key=lambda lot: (lot.expires_on or date.max, not lot.earmarked, lot.id),
    )


def plan_reservation(
    lots: Sequence[Lot],
    movements: Sequence[Movement],
    today: date,
    amount_cents: int,
    eligible: Eligible = everything,
) -> list[tuple[int, int]] | Shortfall:
    """(lot id, cents) to take for a booking of `amount_cents`, soonest-expiring first."""
    if amount_cents <= 0:
        return []
    plan: list[tuple[int, int]] = []
    still = amount_cents
    for lot in spending_order(lots, today, eligible):
        left = remaining(lot, movements)
        if left <= 0:
            continue
        take = min(left, still)
        plan.append((lot.id, take))
        still -= take
        if still == 0:
            return plan
    total = available(lots, movements, today, eligible)
    return Shortfall(missing_cents=amount_cents - total, available_cents=total)


def plan_release(movements: Sequence[Movement], booking_id: int) -> list[tuple[int, int]]:
    """(lot id, cents) to give back for a cancelled booking: what it still holds per lot."""
    held: dict[int, int] = {}
    for m in movements:
        if m.booking_id == booking_id:
            held[m.lot_id] = held.get(m.lot_id, 0) - m.amount_cents
    return [(lot_id, cents) for lot_id, cents in sorted(held.items()) if cents > 0]
