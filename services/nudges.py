"""Nudges on the database: preferences, one-off reminders, team campaigns, and the outbox that
the delivery engine (`bot/nudge_delivery.py`) sends from.

Every message to send is first an outbox row with a unique `dedupe_key` (one per recipient per
campaign, one per user per nudge day, one per reminder), so planning twice, or after a restart,
never makes a second message. Quiet hours move a row's `due_at` to the end of the quiet time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import (
    Booking,
    BookingStatus,
    Campaign,
    LearningLoop,
    LoopStatus,
    NudgePreference,
    OutboxMessage,
    OutboxStatus,
    Reminder,
    Team,
    TeamMember,
    TeamRole,
    User,
)
from knowledge.models import CourseOffering, Regulation
from services.outbox import campaign_counts
from services.wallet import summary

logger = logging.getLogger(__name__)

NUDGE_EXPIRY_DAYS = 30
NUDGE_COURSE_DAYS = 14
NUDGE_REGULATION_DAYS = 30
DAY_MINUTES = 24 * 60


# ------------------------------------------------------------------ time


def local_now(now: datetime, zone: str) -> datetime:
    return now.astimezone(ZoneInfo(zone))


def in_quiet_hours(minute: int, start: int, end: int) -> bool:
    """Is `minute` (after local midnight) inside quiet hours that may wrap midnight?"""
    if start == end:
        return False
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end


def out_of_quiet_hours(due: datetime, pref: NudgePreference | None, zone: str) -> datetime:
    """The first moment at or after `due` that is not in the user's quiet hours (UTC)."""
    start = pref.quiet_start if pref else 21 * 60
    end = pref.quiet_end if pref else 8 * 60
    local = due.astimezone(ZoneInfo(zone))
    minute = local.hour * 60 + local.minute
    if not in_quiet_hours(minute, start, end):
        return due
    day = local.date() if minute < end else local.date() + timedelta(days=1)
    wake = datetime.combine(day, time(end // 60, end % 60), tzinfo=ZoneInfo(zone))
    return wake.astimezone(due.tzinfo)


# ------------------------------------------------------------------ preferences


async def preference(session: AsyncSession, user: User) -> NudgePreference | None:
    return await session.get(NudgePreference, user.id)


async def ensure_preference(session: AsyncSession, user: User) -> NudgePreference:
    pref = await session.get(NudgePreference, user.id)
    if pref is None:
        pref = NudgePreference(
            user_id=user.id,
            every_days=7,
            weekday=0,
            at_minute=9 * 60,
            quiet_start=21 * 60,
            quiet_end=8 * 60,
            stopped=False,
        )
        session.add(pref)
        await session.flush()
    return pref


def schedule_chosen(pref: NudgePreference, now: datetime) -> None:
    """The worker (re)chose when nudges come: only moments from `now` on count."""
    pref.schedule_from = now


async def upcoming_reminders(session: AsyncSession, user: User, now: datetime) -> list[Reminder]:
    """The user's one-off reminders still to come, soonest first."""
    rows = await session.scalars(
        select(Reminder)
        .where(Reminder.user_id == user.id, Reminder.due_at > now)
        .order_by(Reminder.due_at, Reminder.id)
    )
    return list(rows.all())


async def stop_all(session: AsyncSession, user: User) -> None:
    """One tap: no more personal nudges or team messages; queued ones are not sent."""
    pref = await ensure_preference(session, user)
    pref.stopped = True
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.user_id == user.id, OutboxMessage.status == OutboxStatus.QUEUED)
        .values(status=OutboxStatus.OPTED_OUT)
    )


async def add_reminder(session: AsyncSession, user: User, about: str, due_at: datetime) -> Reminder:
    reminder = Reminder(user_id=user.id, about=about[:300], due_at=due_at)
    session.add(reminder)
    await session.flush()
    return reminder


# ------------------------------------------------------------------ content


def _payload(key: str, values: dict[str, Any], **parts: dict[str, Any]) -> dict[str, Any]:
    return {"key": key, "values": values, "parts": parts}


async def personal_content(session: AsyncSession, user: User, today: date) -> dict[str, Any]:
    """The most useful thing to say: money that expires soon, the next step of the loop, a
    course that starts soon, a regulation that closes soon, or a light invitation."""
    wallet = await summary(session, user, today)
    expiring = [e for e in wallet.expiring if e.expires_on <= today + timedelta(NUDGE_EXPIRY_DAYS)]
    if expiring:
        e = expiring[0]
        return _payload(
            "nudge_expiring",
            {"amount_cents": e.cents, "date": e.expires_on.isoformat(), "funder": e.funder},
        )
    loop = await session.scalar(
        select(LearningLoop)
        .where(LearningLoop.user_id == user.id, LearningLoop.status == LoopStatus.ACTIVE)
        .order_by(LearningLoop.id.desc())
        .limit(1)
    )
    if loop is not None:
        step = next((s for s in loop.steps if s.done_at is None), None)
        if step is not None:
            return _payload(
                "nudge_loop_step",
                {"date": step.due_on.isoformat(), "step_id": step.id},
                step={"key": step.key, "values": step.values},
            )
    for booking in wallet.bookings:
        if booking.status != BookingStatus.RESERVED or booking.course_pk is None:
            continue
        starts = await _course_start(session, booking, today)
        if starts is not None and starts <= today + timedelta(NUDGE_COURSE_DAYS):
            return _payload(
                "nudge_course_start", {"title": booking.title, "date": starts.isoformat()}
            )
    closing = await session.scalar(
        select(Regulation)
        .where(
            Regulation.country == "NL",
            Regulation.valid_until >= today,
            Regulation.valid_until <= today + timedelta(NUDGE_REGULATION_DAYS),
        )
        .order_by(Regulation.valid_until)
        .limit(1)
    )
    if closing is not None and closing.valid_until is not None:
        return _payload(
            "nudge_regulation_deadline",
            {"title": closing.title, "date": closing.valid_until.isoformat()},
        )
    return _payload("nudge_generic", {})


async def _course_start(session: AsyncSession, booking: Booking, today: date) -> date | None:
    starts: date | None = await session.scalar(
        select(func.min(CourseOffering.starts_on)).where(
            CourseOffering.course_pk == booking.course_pk, CourseOffering.starts_on >= today
        )
    )
    return starts


# ------------------------------------------------------------------ planning


def _due_today(pref: NudgePreference, local: datetime) -> bool:
    if pref.stopped:
        return False
    today = local.date()
    if pref.paused_until is not None and today <= pref.paused_until:
        return False
    if local.hour * 60 + local.minute < pref.at_minute:
        return False
    moment = datetime.combine(
        today, time(pref.at_minute // 60, pref.at_minute % 60), tzinfo=local.tzinfo
    )
    if pref.schedule_from is not None and moment < pref.schedule_from:
        return False  # today's moment had passed when this schedule was chosen: next time
    if pref.every_days <= 0:  # no personal nudges, only team messages
        return False
    if pref.last_planned_on is not None and (today - pref.last_planned_on).days < pref.every_days:
        return False
    return pref.every_days == 1 or local.weekday() == pref.weekday


async def _queue(
    session: AsyncSession,
    *,
    user_id: int,
    key: str,
    kind: str,
    payload: dict[str, Any],
    due_at: datetime,
    status: OutboxStatus = OutboxStatus.QUEUED,
    campaign_id: int | None = None,
) -> bool:
    """Insert one outbox row unless its dedupe key exists; True when inserted."""
    exists = await session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key))
    if exists is not None:
        return False
    session.add(
        OutboxMessage(
            user_id=user_id,
            dedupe_key=key,
            kind=kind,
            payload=payload,
            due_at=due_at,
            status=status,
            campaign_id=campaign_id,
            attempts=0,
        )
    )
    return True


async def plan_personal(session: AsyncSession, now: datetime, zone: str) -> int:
    """Queue today's nudge for everyone whose day and time have come."""
    local = local_now(now, zone)
    today = local.date()
    # Every tick: only look at people who want nudges and had none today.
    rows = await session.execute(
        select(NudgePreference, User)
        .join(User, User.id == NudgePreference.user_id)
        .where(
            NudgePreference.stopped.is_(False),
            NudgePreference.every_days > 0,
            (NudgePreference.last_planned_on.is_(None)) | (NudgePreference.last_planned_on < today),
            User.consent.is_(True),
        )
    )
    planned = 0
    for pref, user in rows.all():
        if not _due_today(pref, local):
            continue
        pref.last_planned_on = local.date()
        if user.blocked:
            continue
        payload = await personal_content(session, user, local.date())
        key = f"nudge:{user.id}:{local.date().isoformat()}"
        due = out_of_quiet_hours(now, pref, zone)
        planned += await _queue(
            session, user_id=user.id, key=key, kind="nudge", payload=payload, due_at=due
        )
    return planned


async def plan_reminders(session: AsyncSession, now: datetime) -> int:
    """Move reminders whose time has come into the outbox (the user chose the time: no quiet
    hours for these)."""
    due = list((await session.scalars(select(Reminder).where(Reminder.due_at <= now))).all())
    for reminder in due:
        await _queue(
            session,
            user_id=reminder.user_id,
            key=f"reminder:{reminder.id}",
            kind="reminder",
            payload=(
                _payload("nudge_reminder", {"about": reminder.about})
                if reminder.about
                else _payload("nudge_reminder_plain", {})
            ),
            due_at=reminder.due_at,
        )
        await session.delete(reminder)
    return len(due)


async def create_campaign(
    session: AsyncSession,
    team: Team,
    text: str,
    send_at: datetime,
    *,
    sender_id: int | None = None,
) -> Campaign:
    """A team message; `sender_id` is the manager who sent it from the chat (their data)."""
    campaign = Campaign(
        team_id=team.id, text=text, send_at=send_at, queued=False, sender_id=sender_id
    )
    session.add(campaign)
    await session.flush()
    return campaign


async def member_count(session: AsyncSession, team_id: int) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(TeamMember)
        .where(TeamMember.team_id == team_id, TeamMember.role == TeamRole.MEMBER)
    )
    return int(count or 0)


@dataclass(frozen=True)
class Reach:
    """Who a team message reaches: members, and of them who stopped messages or blocked the
    bot (they do not get it)."""

    members: int
    opted_out: int
    blocked: int

    @property
    def reached(self) -> int:
        return self.members - self.opted_out - self.blocked


async def team_reach(session: AsyncSession, team_id: int) -> Reach:
    rows = (
        await session.execute(
            select(User.blocked, NudgePreference.stopped)
            .join(TeamMember, TeamMember.user_id == User.id)
            .outerjoin(NudgePreference, NudgePreference.user_id == User.id)
            .where(TeamMember.team_id == team_id, TeamMember.role == TeamRole.MEMBER)
        )
    ).all()
    opted_out = sum(1 for _, stopped in rows if stopped)
    blocked = sum(1 for blocked, stopped in rows if blocked and not stopped)
    return Reach(members=len(rows), opted_out=opted_out, blocked=blocked)


async def latest_campaign(session: AsyncSession, team_id: int) -> Campaign | None:
    found: Campaign | None = await session.scalar(
        select(Campaign).where(Campaign.team_id == team_id).order_by(Campaign.id.desc()).limit(1)
    )
    return found


async def team_campaigns(session: AsyncSession, team_id: int, limit: int = 10) -> list[Campaign]:
    """The team's latest messages, newest first."""
    found = await session.scalars(
        select(Campaign)
        .where(Campaign.team_id == team_id)
        .order_by(Campaign.id.desc())
        .limit(limit)
    )
    return list(found.all())


async def delivery_counts(session: AsyncSession, campaign: Campaign) -> dict[str, int]:
    """How far a team message is: total, queued, sent, failed (incl. blocked), blocked, opted
    out. Before it is due, every member is still to come."""
    counts = await campaign_counts(session, campaign.id)
    if not campaign.queued:
        members = await member_count(session, campaign.team_id)
        counts = {**counts, "total": members, "queued": members}
    return counts


async def queue_campaigns(session: AsyncSession, now: datetime, zone: str) -> int:
    """Make one outbox row per member for every campaign whose time has come: queued (after
    quiet hours), or marked opted out / blocked so the counts show them."""
    campaigns = list(
        (
            await session.scalars(
                select(Campaign).where(Campaign.queued.is_(False), Campaign.send_at <= now)
            )
        ).all()
    )
    made = 0
    for campaign in campaigns:
        team = await session.get(Team, campaign.team_id)
        assert team is not None
        members = (
            await session.execute(
                select(User, NudgePreference)
                .join(TeamMember, TeamMember.user_id == User.id)
                .outerjoin(NudgePreference, NudgePreference.user_id == User.id)
                .where(TeamMember.team_id == campaign.team_id, TeamMember.role == TeamRole.MEMBER)
                .order_by(User.id)
            )
        ).all()
        existing = set(
            (
                await session.scalars(
                    select(OutboxMessage.user_id).where(OutboxMessage.campaign_id == campaign.id)
                )
            ).all()
        )
        rows = []
        for user, pref in members:
            if user.id in existing:
                continue
            if pref is not None and pref.stopped:
                status = OutboxStatus.OPTED_OUT
            elif user.blocked:
                status = OutboxStatus.BLOCKED
            else:
                status = OutboxStatus.QUEUED
            rows.append(
                {
                    "user_id": user.id,
                    "dedupe_key": f"campaign:{campaign.id}:{user.id}",
                    "kind": "campaign",
                    "campaign_id": campaign.id,
                    "payload": _payload(
                        "nudge_campaign", {"team": team.name, "text": campaign.text}
                    ),
                    "due_at": out_of_quiet_hours(campaign.send_at, pref, zone),
                    "status": status,
                    "attempts": 0,
                }
            )
        if rows:
            await session.execute(insert(OutboxMessage), rows)
        campaign.queued = True
        made += len(rows)
    return made


# ------------------------------------------------------------------ money arrived


@dataclass(frozen=True)
class CreditNotice:
    """Money an employer or fund put in members' wallets, to tell them about."""

    request_id: int
    amount_cents: int
    expires_on: date
    funder: str
    earmark: str = ""


async def queue_credit_notices(
    session: AsyncSession, users: list[User], notice: CreditNotice, now: datetime, zone: str
) -> int:
    """One message per credited member ("€ 250 from ... is in your wallet"), through the
    outbox: after their quiet hours, and marked opted out or blocked (not sent) for members
    who stopped messages or blocked the bot. Once per credit request and member."""
    if not users:
        return 0
    prefs = {
        p.user_id: p
        for p in (
            await session.scalars(
                select(NudgePreference).where(NudgePreference.user_id.in_([u.id for u in users]))
            )
        ).all()
    }
    values: dict[str, Any] = {
        "amount_cents": notice.amount_cents,
        "date": notice.expires_on.isoformat(),
        "funder": notice.funder,
    }
    key = "nudge_money_arrived"
    if notice.earmark:
        key, values = "nudge_money_arrived_earmark", {**values, "earmark": notice.earmark}
    made = 0
    for user in users:
        pref = prefs.get(user.id)
        if pref is not None and pref.stopped:
            status = OutboxStatus.OPTED_OUT
        elif user.blocked:
            status = OutboxStatus.BLOCKED
        else:
            status = OutboxStatus.QUEUED
        made += await _queue(
            session,
            user_id=user.id,
            key=f"credit:{notice.request_id}:{user.id}",
            kind="credit",
            payload=_payload(key, values),
            due_at=out_of_quiet_hours(now, pref, zone),
            status=status,
        )
    return made
