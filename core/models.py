"""ORM models shared by every layer: users, organisations, conversation state, teams, the
learning wallet (a ledger), bookings and achievements.

Tables that hold personal data point to `users.id` with `ON DELETE CASCADE`; the privacy
actions find them through that foreign key, so a new table of personal data is exported and
deleted without extra code.
"""

from __future__ import annotations

import re
import secrets
import string
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime, utcnow


class Channel(StrEnum):
    TELEGRAM = "telegram"
    CONSOLE = "console"
    RASA = "rasa"  # a Rasa assistant's sender id (bot/rasa/)


class Role(StrEnum):
    WORKER = "worker"
    MANAGER = "manager"
    ADMIN = "admin"


class FundSource(StrEnum):
    EMPLOYER = "employer"
    SECTOR_FUND = "sector_fund"
    GOVERNMENT = "government"
    OWN = "own"


class EntryKind(StrEnum):
    CREDIT = "credit"  # money in (a lot, with its own expiry and earmark)
    RESERVE = "reserve"  # money taken from a lot for a booking (negative)
    RELEASE = "release"  # a reservation given back to its lot (positive)


class BookingStatus(StrEnum):
    RESERVED = "reserved"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


class LoopStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    STOPPED = "stopped"


class OutboxStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"  # the user blocked the bot (Telegram 403)
    OPTED_OUT = "opted_out"  # the user stopped nudges


class TeamRole(StrEnum):
    MEMBER = "member"
    MANAGER = "manager"


class OrgKind(StrEnum):
    EMPLOYER = "employer"
    INSTITUTION = "institution"
    ADMIN = "admin"


# Public ids of teams and team messages: what the API and the portal show, so that nobody can
# count another employer's teams or guess their ids (the row ids stay inside). A prefix says
# what an id is (as Stripe's do); 16 characters of [a-z0-9] are 82 random bits.
PUBLIC_ID_ALPHABET = string.ascii_lowercase + string.digits
PUBLIC_ID_LENGTH = 16
TEAM_PREFIX = "tm_"
CAMPAIGN_PREFIX = "cp_"


def new_public_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(PUBLIC_ID_ALPHABET) for _ in range(PUBLIC_ID_LENGTH))


def public_id_pattern(prefix: str) -> str:
    """The JSON-Schema pattern of a public id with `prefix`."""
    return f"^{prefix}[a-z0-9]{{{PUBLIC_ID_LENGTH}}}$"


_PUBLIC_ID = {p: re.compile(public_id_pattern(p)) for p in (TEAM_PREFIX, CAMPAIGN_PREFIX)}


def is_public_id(prefix: str, value: str) -> bool:
    """Whether `value` is shaped like a public id with `prefix` (before any lookup: a path
    may hold anything, and PostgreSQL refuses some characters outright)."""
    return _PUBLIC_ID[prefix].fullmatch(value) is not None


def _str_enum(enum: type[StrEnum]) -> Enum:
    return Enum(
        enum,
        native_enum=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class User(Base):
    """A person talking to Leerloop on one channel. Without consent only the chat id is kept."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_users_channel_external"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[Channel] = mapped_column(_str_enum(Channel))
    external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(100), default=None)
    role: Mapped[Role] = mapped_column(_str_enum(Role), default=Role.WORKER)
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    region: Mapped[str | None] = mapped_column(String(80), default=None)
    occupation_uri: Mapped[str | None] = mapped_column(String(200), default=None)
    occupation_label: Mapped[str | None] = mapped_column(String(300), default=None)
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Organisation(Base):
    """An employer, institution or admin that uses the HTTP API with a bearer token."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrgKind] = mapped_column(_str_enum(OrgKind))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ConversationState(Base):
    """The dialogue state of one user (flow stack and slots), saved after every turn."""

    __tablename__ = "conversation_states"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Team(Base):
    """An employer's team; people join with the invite code (a Telegram deep link)."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(
        String(24), unique=True, index=True, default=lambda: new_public_id(TEAM_PREFIX)
    )
    employer_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    invite_code: Mapped[str] = mapped_column(String(32), unique=True)
    manager_code: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TeamMember(Base):
    """A user in a team. `share_progress` is the member's consent to show their own figures."""

    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("team_id", "user_id", name="uq_team_member"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[TeamRole] = mapped_column(_str_enum(TeamRole), default=TeamRole.MEMBER)
    share_progress: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CreditRequest(Base):
    """One employer credit request; its idempotency key makes a retry change nothing."""

    __tablename__ = "credit_requests"
    __table_args__ = (UniqueConstraint("team_id", "idempotency_key", name="uq_credit_request"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Booking(Base):
    """A course booked with wallet money: reserved, then cancelled or completed (settled)."""

    __tablename__ = "bookings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_pk: Mapped[int | None] = mapped_column(
        ForeignKey("courses.id", ondelete="SET NULL"), default=None
    )
    title: Mapped[str] = mapped_column(String(300))
    provider: Mapped[str] = mapped_column(String(200), default="")
    price_cents: Mapped[int] = mapped_column(Integer)
    status: Mapped[BookingStatus] = mapped_column(
        _str_enum(BookingStatus), default=BookingStatus.RESERVED
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class WalletEntry(Base):
    """One row of a learning wallet's ledger, in integer cents.

    A CREDIT row is a lot of money with its source, funder, expiry and earmark. RESERVE rows
    (negative) take money from a lot for a booking; RELEASE rows (positive) give it back. The
    balance is the sum of the rows of lots that have not expired.
    """

    __tablename__ = "wallet_entries"
    __table_args__ = (
        UniqueConstraint("user_id", "idempotency_key", name="uq_wallet_idempotency"),
        CheckConstraint(
            "(kind = 'credit' AND amount_cents > 0) OR (kind = 'reserve' AND amount_cents < 0)"
            " OR (kind = 'release' AND amount_cents > 0)",
            name="ck_wallet_entry_sign",
        ),
        Index("ix_wallet_entries_user_lot", "user_id", "lot_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[EntryKind] = mapped_column(_str_enum(EntryKind))
    amount_cents: Mapped[int] = mapped_column(Integer)
    lot_id: Mapped[int | None] = mapped_column(
        ForeignKey("wallet_entries.id", ondelete="CASCADE"), default=None
    )
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), default=None, index=True
    )
    source: Mapped[FundSource | None] = mapped_column(_str_enum(FundSource), default=None)
    funder: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(String(300), default="")
    earmark: Mapped[str | None] = mapped_column(String(200), default=None)  # what the worker reads
    # What earmarked money may pay for (services/earmarks.py): {"topics": [...], "skills":
    # [ESCO URIs], "course_ids": [...]}; None on a plain credit.
    earmark_rule: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    expires_on: Mapped[date | None] = mapped_column(Date, default=None)
    idempotency_key: Mapped[str | None] = mapped_column(String(120), default=None)
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), default=None, index=True
    )
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Achievement(Base):
    """Something learned: a completed course or loop, a certificate, a badge."""

    __tablename__ = "achievements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    earned_on: Mapped[date] = mapped_column(Date)
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="SET NULL"), default=None
    )


class Reflection(Base):
    """One skill reflection: the work, self-ratings per ESCO skill group (1-4), two open answers."""

    __tablename__ = "reflections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    occupation_uri: Mapped[str | None] = mapped_column(String(200), default=None)
    occupation_label: Mapped[str | None] = mapped_column(String(300), default=None)
    ratings: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    proud: Mapped[str | None] = mapped_column(Text, default=None)
    energy: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LearningLoop(Base):
    """A learning loop: a concrete goal, an activity, dated steps, and a closing reflection."""

    __tablename__ = "learning_loops"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    goal: Mapped[str] = mapped_column(Text)
    why: Mapped[str | None] = mapped_column(Text, default=None)
    deadline: Mapped[date] = mapped_column(Date)
    activity: Mapped[str] = mapped_column(String(16))  # "course" or "practice"
    course_pk: Mapped[int | None] = mapped_column(
        ForeignKey("courses.id", ondelete="SET NULL"), default=None
    )
    course_title: Mapped[str | None] = mapped_column(String(300), default=None)
    apply_plan: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[LoopStatus] = mapped_column(_str_enum(LoopStatus), default=LoopStatus.ACTIVE)
    learned: Mapped[str | None] = mapped_column(Text, default=None)
    applied: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    steps: Mapped[list[LoopStep]] = relationship(
        back_populates="loop",
        cascade="all, delete-orphan",
        order_by="LoopStep.position",
        lazy="selectin",
    )


class LoopStep(Base):
    """One step of a loop. `key` names its text in dialogues/responses*.yml; `values` fill it."""

    __tablename__ = "loop_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loop_id: Mapped[int] = mapped_column(
        ForeignKey("learning_loops.id", ondelete="CASCADE"), index=True
    )
    # Also points to the user, so privacy export and delete find the steps by themselves.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(60))
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    due_on: Mapped[date] = mapped_column(Date)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    loop: Mapped[LearningLoop] = relationship(back_populates="steps")


class NudgePreference(Base):
    """How often and when a worker wants a nudge; quiet hours; pause; stop."""

    __tablename__ = "nudge_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    every_days: Mapped[int] = mapped_column(Integer, default=7)  # 7 = weekly, 14, 1 = daily
    weekday: Mapped[int] = mapped_column(Integer, default=0)  # 0 = Monday
    at_minute: Mapped[int] = mapped_column(Integer, default=9 * 60)  # minutes after midnight
    quiet_start: Mapped[int] = mapped_column(Integer, default=21 * 60)
    quiet_end: Mapped[int] = mapped_column(Integer, default=8 * 60)
    paused_until: Mapped[date | None] = mapped_column(Date, default=None)
    stopped: Mapped[bool] = mapped_column(Boolean, default=False)
    last_planned_on: Mapped[date | None] = mapped_column(Date, default=None)
    # When the worker last chose a day, time or frequency: a nudge moment before it has passed
    # (today's weekday chosen after the time) is not sent at once, but the next time.
    schedule_from: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Reminder(Base):
    """A one-off reminder the worker asked for ("herinner me vrijdag om 9 uur aan ...")."""

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    about: Mapped[str] = mapped_column(String(300))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Campaign(Base):
    """A message from an employer to a team, now or at `send_at`."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(
        String(24), unique=True, index=True, default=lambda: new_public_id(CAMPAIGN_PREFIX)
    )
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    # The manager who sent it from Telegram (None: the employer's API). Their data: it goes
    # with their "Wis alles".
    sender_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None, index=True
    )
    text: Mapped[str] = mapped_column(Text)
    send_at: Mapped[datetime] = mapped_column(UTCDateTime())
    queued: Mapped[bool] = mapped_column(Boolean, default=False)  # outbox rows made
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OutboxMessage(Base):
    """One message to one person, to be sent once. `dedupe_key` is unique: a campaign has one
    row per recipient, a personal nudge one per user per period, a reminder one."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "due_at"),
        Index("ix_outbox_user_status", "user_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # "nudge", "reminder" or "campaign"
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), default=None, index=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[OutboxStatus] = mapped_column(
        _str_enum(OutboxStatus), default=OutboxStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200), default=None)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # A claim: which process is sending this row ("sending") and until when. Another process
    # takes the row back only after `lease_until` has passed (that process died).
    lease_owner: Mapped[str | None] = mapped_column(String(80), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class PortalLink(Base):
    """A one-time sign-in link to the web portal: valid for minutes, used once. Only a hash of
    its code is stored."""

    __tablename__ = "portal_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class PortalSession(Base):
    """A signed-in browser: the cookie holds a random token (only its hash is stored) and the
    session's CSRF token goes into every form."""

    __tablename__ = "portal_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class UpdateStatus(StrEnum):
    PENDING = "pending"  # stored, not yet handled
    HANDLED = "handled"  # the turn is committed; its replies are stored and being sent
    DONE = "done"  # replies sent


class TelegramUpdate(Base):
    """The inbox: every Telegram update, stored (unique by `update_id`) before it is
    acknowledged, handled once, in order per chat. `replies` holds what the turn answered
    until it has been sent, so a process that dies after the turn resends, never re-runs it."""

    __tablename__ = "telegram_updates"
    __table_args__ = (Index("ix_telegram_updates_open", "status", "chat_key", "update_id"),)

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_key: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[UpdateStatus] = mapped_column(
        _str_enum(UpdateStatus), default=UpdateStatus.PENDING
    )
    replies: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(80), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class SharedLimit(Base):
    """Telegram's limits shared by every process of one bot token (PostgreSQL backend):
    `tat` is the theoretical arrival time of GCRA, seconds on the database's clock."""

    __tablename__ = "shared_limits"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    tat: Mapped[float] = mapped_column(Float, default=0.0)
