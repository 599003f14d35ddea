"""The learning wallet on the database: credits, bookings (reserve, cancel, complete),
balance, history and achievements. The rules themselves live in `actions/_ledger.py`.

Every function that moves money first locks the user's row (`SELECT ... FOR UPDATE`), so two
bookings at the same moment are taken one after the other and cannot overspend; the caller's
transaction makes each move all-or-nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import (
    Achievement,
    Booking,
    BookingStatus,
    EntryKind,
    FundSource,
    User,
    WalletEntry,
)
from knowledge import CourseRecord
from knowledge.text import fold
from services.ledger import (
    Earmark,
    Eligible,
    Lot,
    Movement,
    Shortfall,
    available,
    everything,
    is_live,
    plan_release,
    plan_reservation,
    remaining,
)

EXPIRY_WARNING_DAYS = 60


class WalletError(ValueError):
    """A wallet operation that cannot be done (unknown booking, wrong state)."""


async def lock_wallet(session: AsyncSession, user_id: int) -> None:
    """Serialise money moves of one user (row lock on PostgreSQL; SQLite locks on BEGIN)."""
    await session.execute(select(User.id).where(User.id == user_id).with_for_update())


async def _entries(session: AsyncSession, user_id: int) -> list[WalletEntry]:
    rows = await session.scalars(
        select(WalletEntry).where(WalletEntry.user_id == user_id).order_by(WalletEntry.id)
    )
    return list(rows.all())


def split_entries(entries: list[WalletEntry]) -> tuple[list[Lot], list[Movement]]:
    lots = [
        Lot(
            e.id,
            e.amount_cents,
            e.expires_on,
            e.earmark,
            Earmark.from_json(e.earmark_rule, e.earmark),
        )
        for e in entries
        if e.kind == EntryKind.CREDIT
    ]
    movements = [
        Movement(e.lot_id, e.amount_cents, e.booking_id)
        for e in entries
        if e.kind != EntryKind.CREDIT and e.lot_id is not None and e.booking_id is not None
    ]
    return lots, movements


async def credit(
    *,
    session: AsyncSession,
    user: User,
    amount_cents: int,
    source: FundSource,
    funder: str,
    description: str = "",
    expires_on: date | None = None,
    earmark: Earmark | str | None = None,
    idempotency_key: str | None = None,
    team_id: int | None = None,
    is_demo: bool = False,
) -> tuple[WalletEntry, bool]:
    """Add money; with an idempotency key a repeat returns the first row (False: not new).
    An `Earmark` must have been checked (`services.earmarks.resolve_earmark`, as credit_team
    and the API do); a plain string is an earmark in words only, as before rules existed."""
    rule = earmark if isinstance(earmark, Earmark) else None
    label = rule.label if rule is not None else earmark
    if amount_cents <= 0:
        raise WalletError("a credit must be more than zero")
    if idempotency_key is not None:
        existing = await session.scalar(
            select(WalletEntry).where(
                WalletEntry.user_id == user.id, WalletEntry.idempotency_key == idempotency_key
            )
        )
        if existing is not None:
            return existing, False
    entry = WalletEntry(
        user_id=user.id,
        kind=EntryKind.CREDIT,
        amount_cents=amount_cents,
        source=source,
        funder=funder,
        description=description,
        expires_on=expires_on,
        earmark=label or None,
        earmark_rule=rule.to_json() if rule is not None else None,
        idempotency_key=idempotency_key,
        team_id=team_id,
        is_demo=is_demo,
    )
    try:
        async with session.begin_nested():
            session.add(entry)
    except IntegrityError:  # the same key, written at the same moment by someone else
        existing = await session.scalar(
            select(WalletEntry).where(
                WalletEntry.user_id == user.id, WalletEntry.idempotency_key == idempotency_key
            )
        )
        assert existing is not None
        return existing, False
    return entry, True


def eligible_for(
    title: str,
    topics: tuple[str, ...] = (),
    course_id: str = "",
    skills: tuple[str, ...] = (),
) -> Eligible:
    """Which money may pay for a course: plain money always; earmarked money when its rule
    covers the course's topics, skills (URIs with their broader groups) or id. An old earmark
    written only in words (from before rules) still counts when it names a topic, or the
    title or id contains it."""
    haystack = [fold(title), *(fold(t) for t in topics), fold(course_id)]
    folded_topics = {fold(t) for t in topics}

    def check(lot: Lot) -> bool:
        if lot.rule is not None:
            return lot.rule.covers(topics=topics, skills=skills, course_id=course_id)
        if not lot.earmark:
            return True
        wanted = fold(lot.earmark)
        return wanted in folded_topics or any(wanted in text for text in haystack if text)

    return check


def eligible_for_course(course: CourseRecord) -> Eligible:
    """`eligible_for` a course of the catalogue."""
    return eligible_for(
        course.title,
        course.topics,
        course.course_id,
        (*course.skills, *course.skill_ancestors),
    )


@dataclass(frozen=True)
class Budget:
    """A user's wallet read once, to ask what each of many courses could take from it."""

    lots: tuple[Lot, ...]
    movements: tuple[Movement, ...]
    today: date

    @property
    def total_cents(self) -> int:
        return available(self.lots, self.movements, self.today)

    def for_course(self, course: CourseRecord) -> int:
        """What may be spent on this course (plain money plus money earmarked for it)."""
        return available(self.lots, self.movements, self.today, eligible_for_course(course))

    def pays_for(self, course: CourseRecord) -> bool:
        return (course.price_cents or 0) <= self.for_course(course)


async def budget(session: AsyncSession, user: User, today: date) -> Budget:
    lots, movements = split_entries(await _entries(session, user.id))
    return Budget(tuple(lots), tuple(movements), today)


async def spendable(
    session: AsyncSession, user: User, today: date, eligible: Eligible = everything
) -> int:
    lots, movements = split_entries(await _entries(session, user.id))
    return available(lots, movements, today, eligible)


async def book(
    *,
    session: AsyncSession,
    user: User,
    title: str,
    price_cents: int,
    today: date,
    course_pk: int | None = None,
    provider: str = "",
    eligible: Eligible = everything,
) -> Booking | Shortfall:
    """Reserve the price of a course from the wallet, or say how much is missing."""
    if price_cents < 0:
        raise WalletError("a price cannot be negative")
    await lock_wallet(session, user.id)
    lots, movements = split_entries(await _entries(session, user.id))
    plan = plan_reservation(lots, movements, today, price_cents, eligible)
    if isinstance(plan, Shortfall):
        return plan
    booking = Booking(
        user_id=user.id,
        course_pk=course_pk,
        title=title,
        provider=provider,
        price_cents=price_cents,
    )
    session.add(booking)
    await session.flush()
    for lot_id, cents in plan:
        session.add(
            WalletEntry(
                user_id=user.id,
                kind=EntryKind.RESERVE,
                amount_cents=-cents,
                lot_id=lot_id,
                booking_id=booking.id,
                description=title,
            )
        )
    await session.flush()
    return booking


async def _own_booking(session: AsyncSession, user: User, booking_id: int) -> Booking:
    booking = await session.get(Booking, booking_id)
    if booking is None or booking.user_id != user.id:
        raise WalletError(f"no booking {booking_id}")
    return booking


async def cancel_booking(*, session: AsyncSession, user: User, booking_id: int) -> Booking:
    """Cancel a reserved booking and give its money back to the lots it came from."""
    await lock_wallet(session, user.id)
    booking = await _own_booking(session, user, booking_id)
    if booking.status != BookingStatus.RESERVED:
        raise WalletError(f"booking {booking_id} is {booking.status}")
    _, movements = split_entries(await _entries(session, user.id))
    for lot_id, cents in plan_release(movements, booking.id):
        session.add(
            WalletEntry(
                user_id=user.id,
                kind=EntryKind.RELEASE,
                amount_cents=cents,
                lot_id=lot_id,
                booking_id=booking.id,
                description=booking.title,
            )
        )
    booking.status = BookingStatus.CANCELLED
    await session.flush()
    return booking


async def complete_booking(
    *, session: AsyncSession, user: User, booking_id: int, today: date
) -> Achievement:
    """The course is done: the reserved money is spent for good, and an achievement is added."""
    await lock_wallet(session, user.id)
    booking = await _own_booking(session, user, booking_id)
    if booking.status != BookingStatus.RESERVED:
        raise WalletError(f"booking {booking_id} is {booking.status}")
    booking.status = BookingStatus.COMPLETED
    achievement = Achievement(
        user_id=user.id,
        kind="course_completed",
        title=booking.title,
        earned_on=today,
        booking_id=booking.id,
    )
    session.add(achievement)
    await session.flush()
    return achievement


async def add_achievement(
    *, session: AsyncSession, user: User, kind: str, title: str, earned_on: date
) -> Achievement:
    achievement = Achievement(user_id=user.id, kind=kind, title=title, earned_on=earned_on)
    session.add(achievement)
    await session.flush()
    return achievement


# ------------------------------------------------------------------ reading


@dataclass(frozen=True)
class SourceLine:
    source: FundSource
    funder: str
    available_cents: int


@dataclass(frozen=True)
class Expiring:
    expires_on: date
    cents: int
    funder: str


@dataclass(frozen=True)
class Earmarked:
    earmark: str
    cents: int
    funder: str


@dataclass
class WalletSummary:
    available_cents: int
    reserved_cents: int
    spent_cents: int
    sources: list[SourceLine] = field(default_factory=list)
    expiring: list[Expiring] = field(default_factory=list)  # within EXPIRY_WARNING_DAYS
    # Every live lot with an end date, soonest first (one line per date and funder), and
    # what never expires.
    expiries: list[Expiring] = field(default_factory=list)
    never_expires_cents: int = 0
    earmarked: list[Earmarked] = field(default_factory=list)
    bookings: list[Booking] = field(default_factory=list)
    achievements: list[Achievement] = field(default_factory=list)
    is_demo: bool = False


async def summary(session: AsyncSession, user: User, today: date) -> WalletSummary:
    entries = await _entries(session, user.id)
    lots, movements = split_entries(entries)
    credits = {e.id: e for e in entries if e.kind == EntryKind.CREDIT}
    bookings = list(
        (
            await session.scalars(
                select(Booking).where(Booking.user_id == user.id).order_by(Booking.id)
            )
        ).all()
    )
    status = {b.id: b.status for b in bookings}
    held: defaultdict[BookingStatus | None, int] = defaultdict(int)
    for m in movements:
        held[status.get(m.booking_id)] -= m.amount_cents
    per_source: dict[tuple[FundSource, str], int] = defaultdict(int)
    expiring: list[Expiring] = []
    by_date: defaultdict[tuple[date, str], int] = defaultdict(int)
    never = 0
    earmarked: list[Earmarked] = []
    horizon = today + timedelta(days=EXPIRY_WARNING_DAYS)
    for lot in lots:
        if not is_live(lot, today):
            continue
        left = remaining(lot, movements)
        entry = credits[lot.id]
        if left <= 0:
            continue
        per_source[(entry.source or FundSource.OWN, entry.funder)] += left
        if lot.expires_on is None:
            never += left
        else:
            by_date[(lot.expires_on, entry.funder)] += left
        if lot.expires_on is not None and lot.expires_on <= horizon:
            expiring.append(Expiring(lot.expires_on, left, entry.funder))
        if lot.earmarked:
            earmarked.append(Earmarked(lot.earmark or "", left, entry.funder))
    achievements = list(
        (
            await session.scalars(
                select(Achievement)
                .where(Achievement.user_id == user.id)
                .order_by(Achievement.earned_on, Achievement.id)
            )
        ).all()
    )
    return WalletSummary(
        available_cents=available(lots, movements, today),
        reserved_cents=held[BookingStatus.RESERVED],
        spent_cents=held[BookingStatus.COMPLETED],
        sources=[SourceLine(s, f, c) for (s, f), c in sorted(per_source.items())],
        expiring=sorted(expiring, key=lambda e: (e.expires_on, e.funder)),
        expiries=[Expiring(on, cents, funder) for (on, funder), cents in sorted(by_date.items())],
        never_expires_cents=never,
        earmarked=earmarked,
        bookings=bookings,
        achievements=achievements,
        is_demo=any(e.is_demo for e in credits.values()),
    )


@dataclass(frozen=True)
class HistoryLine:
    on: date
    kind: str  # "credit", "reserve", "release" or "expired"
    cents: int
    text: str


async def history(session: AsyncSession, user: User, today: date) -> list[HistoryLine]:
    """Every money move, newest first; a reservation is one line per booking, and money that
    expired unspent shows as a line on its expiry date."""
    entries = await _entries(session, user.id)
    lots, movements = split_entries(entries)
    ordered: list[tuple[date, int, HistoryLine]] = []
    grouped: dict[tuple[str, int], tuple[int, date, int, str]] = {}
    for e in entries:
        on = e.created_at.date()
        if e.kind == EntryKind.CREDIT:
            line = HistoryLine(on, "credit", e.amount_cents, e.description or e.funder)
            ordered.append((on, e.id, line))
        elif e.booking_id is not None:
            key = (e.kind.value, e.booking_id)
            first_id, first_on, cents, text = grouped.get(key, (e.id, on, 0, e.description))
            grouped[key] = (first_id, first_on, cents + e.amount_cents, text)
    for (kind, _), (first_id, on, cents, text) in grouped.items():
        ordered.append((on, first_id, HistoryLine(on, kind, cents, text)))
    credits = {e.id: e for e in entries if e.kind == EntryKind.CREDIT}
    for lot in lots:
        if not is_live(lot, today) and lot.expires_on is not None:
            left = remaining(lot, movements)
            if left > 0:
                entry = credits[lot.id]
                text = entry.description or entry.funder
                line = HistoryLine(lot.expires_on, "expired", -left, text)
                ordered.append((lot.expires_on, lot.id, line))
    return [line for _, _, line in sorted(ordered, key=lambda o: (o[0], o[1]), reverse=True)]


DEMO_KEYS = ("demo:employer", "demo:fund")


async def ensure_demo_wallet(*, session: AsyncSession, user: User, today: date) -> bool:
    """Give the default console user a demo wallet in a new database (nothing booked yet):
    two sources, one expiring within a month. Marked as demo. True when it was added."""
    any_entry = await session.scalar(select(WalletEntry.id).limit(1))
    if any_entry is not None:
        return False
    await credit(
        session=session,
        user=user,
        amount_cents=75_000,
        source=FundSource.EMPLOYER,
        funder="Voorbeeldwerkgever (demo)",
        description="Ontwikkelbudget 2026 (demo)",
        expires_on=today + timedelta(days=30),
        idempotency_key=DEMO_KEYS[0],
        is_demo=True,
    )
    await credit(
        session=session,
        user=user,
        amount_cents=40_000,
        source=FundSource.SECTOR_FUND,
        funder="O&O-fonds Voorbeeld (demo)",
        description="Scholing veiligheid (demo)",
        expires_on=today + timedelta(days=365),
        earmark=Earmark(topics=("veiligheid",), label="veiligheid"),
        idempotency_key=DEMO_KEYS[1],
        is_demo=True,
    )
    return True
