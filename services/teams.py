"""Teams: an employer's invite codes, members who join by deep link, credits to members
(idempotent per request), and the aggregated summary an employer may see.

An employer sees totals for the team. A member's own figures (what they booked, spent or have
left) are shown only for members who said yes to sharing (`share_progress`).
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.models import (
    Booking,
    BookingStatus,
    CreditRequest,
    EntryKind,
    FundSource,
    LearningLoop,
    LoopStatus,
    Organisation,
    Team,
    TeamMember,
    TeamRole,
    User,
    WalletEntry,
)
from services.earmarks import EarmarkSpec, resolve_earmark
from services.ledger import Earmark, is_live, remaining
from services.nudges import CreditNotice, queue_credit_notices
from services.wallet import EXPIRY_WARNING_DAYS, credit, split_entries

DEFAULT_ZONE = "Europe/Amsterdam"
INVITE_PREFIX = "team_"
MANAGER_PREFIX = "mgr_"


class TeamError(ValueError):
    """A team request that cannot be done as asked."""


def _code() -> str:
    return secrets.token_urlsafe(9).replace("-", "a").replace("_", "b")


def invite_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={INVITE_PREFIX}{code}"


def manager_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={MANAGER_PREFIX}{code}"


async def create_team(*, session: AsyncSession, employer: Organisation, name: str) -> Team:
    team = Team(employer_id=employer.id, name=name, invite_code=_code(), manager_code=_code())
    session.add(team)
    await session.flush()
    return team


async def team_by_code(session: AsyncSession, code: str) -> tuple[Team, TeamRole] | None:
    """The team a `/start` argument invites to, and as what (member or manager)."""
    for prefix, role, column in (
        (INVITE_PREFIX, TeamRole.MEMBER, Team.invite_code),
        (MANAGER_PREFIX, TeamRole.MANAGER, Team.manager_code),
    ):
        if code.startswith(prefix):
            team = await session.scalar(select(Team).where(column == code[len(prefix) :]))
            if team is not None:
                return team, role
    return None


async def join_team(
    *, session: AsyncSession, team: Team, user: User, role: TeamRole, share_progress: bool
) -> TeamMember:
    member = await session.scalar(
        select(TeamMember).where(TeamMember.team_id == team.id, TeamMember.user_id == user.id)
    )
    if member is None:
        member = TeamMember(team_id=team.id, user_id=user.id, role=role)
        session.add(member)
    elif role == TeamRole.MANAGER:
        member.role = role
    member.share_progress = share_progress
    await session.flush()
    return member


async def memberships(session: AsyncSession, user: User) -> list[tuple[TeamMember, Team]]:
    rows = await session.execute(
        select(TeamMember, Team)
        .join(Team, Team.id == TeamMember.team_id)
        .where(TeamMember.user_id == user.id)
        .order_by(Team.id)
    )
    return [(m, t) for m, t in rows.all()]


async def managed_teams(session: AsyncSession, user: User) -> list[Team]:
    """The teams this user follows as a manager."""
    return [t for m, t in await memberships(session, user) if m.role == TeamRole.MANAGER]


class DuplicateRequest(Exception):
    """Another transaction stored the same credit request first; read its result again."""


class IdempotencyConflict(Exception):
    """The idempotency key was used before for a different request (the API answers 409)."""


@dataclass(frozen=True)
class CreditOrder:
    amount_cents: int
    expires_on: date
    description: str
    idempotency_key: str
    member_ids: tuple[int, ...] | None = None
    # Checked at credit time (services/earmarks.py); a string is short for one topic.
    earmark: Earmark | EarmarkSpec | str | None = None
    source: FundSource = FundSource.EMPLOYER
    # A digest of the whole request as the client sent it; a key reused with another body is
    # refused (as Stripe does) instead of silently answering with the first result.
    fingerprint: str = ""

    def same_request(self, stored: dict[str, Any]) -> bool:
        """Whether `stored` (a CreditRequest.request) is this order again."""
        if stored.get("fingerprint") and self.fingerprint:
            return bool(stored["fingerprint"] == self.fingerprint)
        return (
            stored.get("amount_cents") == self.amount_cents
            and stored.get("expires_on") == self.expires_on.isoformat()
            and stored.get("description") == self.description
            and stored.get("member_ids")
            == (list(self.member_ids) if self.member_ids is not None else None)
        )


async def credit_team(
    *,
    session: AsyncSession,
    team: Team,
    funder: str,
    order: CreditOrder,
    now: datetime | None = None,
    zone: str = DEFAULT_ZONE,
) -> tuple[dict[str, Any], bool]:
    """Credit members' wallets once per idempotency key; returns (result, created now).
    An earmark without a defined meaning raises EarmarkError before anything is written."""
    existing = await session.scalar(
        select(CreditRequest).where(
            CreditRequest.team_id == team.id,
            CreditRequest.idempotency_key == order.idempotency_key,
        )
    )
    if existing is not None:
        if not order.same_request(existing.request):
            raise IdempotencyConflict(order.idempotency_key)
        return existing.result, False
    members = list(
        (
            await session.scalars(
                select(TeamMember)
                .where(TeamMember.team_id == team.id, TeamMember.role == TeamRole.MEMBER)
                .order_by(TeamMember.id)
            )
        ).all()
    )
    if order.member_ids is not None:
        known = {m.id for m in members}
        unknown = sorted(set(order.member_ids) - known)
        if unknown:
            raise TeamError(f"not members of this team: {', '.join(map(str, unknown))}")
        members = [m for m in members if m.id in set(order.member_ids)]
    now = now or utcnow()
    earmark = await resolve_earmark(session, order.earmark)
    request = CreditRequest(
        team_id=team.id,
        idempotency_key=order.idempotency_key,
        request={
            "amount_cents": order.amount_cents,
            "expires_on": order.expires_on.isoformat(),
            "description": order.description,
            "member_ids": list(order.member_ids) if order.member_ids is not None else None,
            "earmark": {"label": earmark.label, **earmark.to_json()} if earmark else None,
            "fingerprint": order.fingerprint,
        },
    )
    try:
        async with session.begin_nested():
            session.add(request)
    except IntegrityError:  # the same request, sent twice at once: the other one did it
        raise DuplicateRequest from None
    credited: list[User] = []
    for member in members:
        user = await session.get(User, member.user_id)
        assert user is not None
        credited.append(user)
        await credit(
            session=session,
            user=user,
            amount_cents=order.amount_cents,
            source=order.source,
            funder=funder,
            description=order.description,
            expires_on=order.expires_on,
            earmark=earmark,
            idempotency_key=f"team{team.id}:{order.idempotency_key}",
            team_id=team.id,
        )
    result = {
        "credit_id": request.id,
        "members_credited": len(members),
        "amount_cents": order.amount_cents,
        "total_cents": order.amount_cents * len(members),
        "expires_on": order.expires_on.isoformat(),
    }
    request.result = result
    await session.flush()
    notice = CreditNotice(
        request_id=request.id,
        amount_cents=order.amount_cents,
        expires_on=order.expires_on,
        funder=funder,
        earmark=earmark.label if earmark else "",
    )
    await queue_credit_notices(session, credited, notice, now, zone)
    return result, True


async def credit_result(session: AsyncSession, team: Team, key: str) -> dict[str, Any] | None:
    found = await session.scalar(
        select(CreditRequest).where(
            CreditRequest.team_id == team.id, CreditRequest.idempotency_key == key
        )
    )
    return found.result if found else None


@dataclass
class MemberFigures:
    member_id: int
    name: str | None
    granted_cents: int = 0
    available_cents: int = 0
    reserved_cents: int = 0
    spent_cents: int = 0
    courses: list[str] = field(default_factory=list)


@dataclass
class TeamSummary:
    team_id: int
    name: str
    members: int
    members_sharing: int
    granted_cents: int
    available_cents: int
    reserved_cents: int
    spent_cents: int
    expiring_60_days_cents: int
    shared: list[MemberFigures] = field(default_factory=list)


def _member_figures(
    member: TeamMember,
    entries: list[WalletEntry],
    bookings: dict[int, Booking],
    team_id: int,
    today: date,
) -> tuple[MemberFigures, int, list[str]]:
    """One member's money from this team: figures, cents expiring soon, courses booked."""
    lots, movements = split_entries(entries)
    team_lots = {e.id for e in entries if e.kind == EntryKind.CREDIT and e.team_id == team_id}
    horizon = today + timedelta(days=EXPIRY_WARNING_DAYS)
    figures = MemberFigures(member.id, None)
    expiring = 0
    for lot in lots:
        if lot.id not in team_lots:
            continue
        figures.granted_cents += lot.amount_cents
        left = remaining(lot, movements)
        if is_live(lot, today):
            figures.available_cents += left
            if lot.expires_on is not None and lot.expires_on <= horizon:
                expiring += left
    booked: set[int] = set()
    for m in movements:
        booking = bookings.get(m.booking_id)
        if m.lot_id not in team_lots or booking is None:
            continue
        if booking.status == BookingStatus.RESERVED:
            figures.reserved_cents -= m.amount_cents
        elif booking.status == BookingStatus.COMPLETED:
            figures.spent_cents -= m.amount_cents
        if booking.status != BookingStatus.CANCELLED:
            booked.add(booking.id)
    return figures, expiring, [bookings[b].title for b in sorted(booked)]


async def team_summary(session: AsyncSession, team: Team, today: date) -> TeamSummary:
    """Totals of the team's money; per-member figures only for members who share them.
    Three queries whatever the team size: members, their ledger rows, their bookings."""
    in_team = (TeamMember.team_id == team.id) & (TeamMember.role == TeamRole.MEMBER)
    members = (
        await session.execute(
            select(TeamMember, User.name)
            .join(User, User.id == TeamMember.user_id)
            .where(in_team)
            .order_by(TeamMember.id)
        )
    ).all()
    member_users = select(TeamMember.user_id).where(in_team)
    entries: defaultdict[int, list[WalletEntry]] = defaultdict(list)
    for entry in (
        await session.scalars(
            select(WalletEntry)
            .where(WalletEntry.user_id.in_(member_users))
            .order_by(WalletEntry.id)
        )
    ).all():
        entries[entry.user_id].append(entry)
    bookings: dict[int, Booking] = {
        b.id: b
        for b in (
            await session.scalars(select(Booking).where(Booking.user_id.in_(member_users)))
        ).all()
    }
    totals: defaultdict[str, int] = defaultdict(int)
    shared: list[MemberFigures] = []
    for member, name in members:
        figures, expiring, courses = _member_figures(
            member, entries[member.user_id], bookings, team.id, today
        )
        totals["expiring"] += expiring
        for key in ("granted", "available", "reserved", "spent"):
            totals[key] += getattr(figures, f"{key}_cents")
        if member.share_progress:
            figures.name = name
            figures.courses = courses
            shared.append(figures)
    return TeamSummary(
        team_id=team.id,
        name=team.name,
        members=len(members),
        members_sharing=len(shared),
        granted_cents=totals["granted"],
        available_cents=totals["available"],
        reserved_cents=totals["reserved"],
        spent_cents=totals["spent"],
        expiring_60_days_cents=totals["expiring"],
        shared=shared,
    )


async def employer_teams(session: AsyncSession, employer: Organisation) -> list[tuple[Team, int]]:
    """The employer's teams with their number of members, oldest first."""
    counts = (
        select(TeamMember.team_id, func.count().label("n"))
        .where(TeamMember.role == TeamRole.MEMBER)
        .group_by(TeamMember.team_id)
        .subquery()
    )
    rows = await session.execute(
        select(Team, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.team_id == Team.id)
        .where(Team.employer_id == employer.id)
        .order_by(Team.id)
    )
    return [(team, int(n)) for team, n in rows.all()]


@dataclass(frozen=True)
class MemberChoice:
    """A member as the employer may see them: an id, and a name only when they share."""

    member_id: int
    name: str | None


async def member_choices(session: AsyncSession, team: Team) -> list[MemberChoice]:
    rows = await session.execute(
        select(TeamMember.id, TeamMember.share_progress, User.name)
        .join(User, User.id == TeamMember.user_id)
        .where(TeamMember.team_id == team.id, TeamMember.role == TeamRole.MEMBER)
        .order_by(TeamMember.id)
    )
    return [MemberChoice(mid, name if share else None) for mid, share, name in rows.all()]


async def team_loops(session: AsyncSession, team: Team) -> dict[str, int]:
    """How many learning loops the team's members have, per status (counts only)."""
    rows = await session.execute(
        select(LearningLoop.status, func.count())
        .join(TeamMember, TeamMember.user_id == LearningLoop.user_id)
        .where(TeamMember.team_id == team.id, TeamMember.role == TeamRole.MEMBER)
        .group_by(LearningLoop.status)
    )
    counts = {status.value: 0 for status in LoopStatus}
    for status, count in rows.all():
        counts[str(status.value if hasattr(status, "value") else status)] = int(count)
    return counts


@dataclass(frozen=True)
class CreditLine:
    """One credit order of the team, as the employer gave it."""

    created_at: datetime
    description: str
    amount_cents: int
    members_credited: int
    total_cents: int
    expires_on: date
    earmark: str  # what the money is for ("" = any course)


async def team_credits(session: AsyncSession, team: Team) -> list[CreditLine]:
    """The team's credit orders, newest first, with their earmarks."""
    rows = await session.scalars(
        select(CreditRequest)
        .where(CreditRequest.team_id == team.id)
        .order_by(CreditRequest.id.desc())
    )
    lines = []
    for row in rows.all():
        if not row.result:  # being processed, or rolled back
            continue
        earmark = row.request.get("earmark") or {}
        lines.append(
            CreditLine(
                created_at=row.created_at,
                description=str(row.request.get("description", "")),
                amount_cents=int(row.result["amount_cents"]),
                members_credited=int(row.result["members_credited"]),
                total_cents=int(row.result["total_cents"]),
                expires_on=date.fromisoformat(row.result["expires_on"]),
                earmark=str(earmark.get("label", "")),
            )
        )
    return lines
