"""The outbox: one row per message to send; the delivery engine (`bot/nudge_delivery.py`) claims
due rows under a lease, sends them and records each outcome right after its send.

Several processes share one outbox: a claim says which process holds a row and until when
(`lease_owner`, `lease_until`); only a row whose lease ran out is taken back. A row is counted
once however often it was claimed; `attempts` says how often it was.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core.models import OutboxMessage, OutboxStatus, User


@dataclass(frozen=True)
class Outgoing:
    id: int
    user_id: int
    chat_id: str
    kind: str
    payload: dict[str, Any]
    attempts: int


def _locking(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


async def claim_due(
    session: AsyncSession,
    now: datetime,
    limit: int,
    *,
    owner: str,
    lease: timedelta,
    chat_interval: timedelta = timedelta(0),
) -> list[Outgoing]:
    """Claim up to `limit` due rows for `owner` until `now + lease` (commit before sending).

    A row is due when it is queued and its time has come, or when it is "sending" under a lease
    that has run out (the process that claimed it died). A live process's rows are never taken.
    At most one row per person is claimed, and none for a person who has a message underway or
    was sent one less than `chat_interval` ago (Telegram's 1 per second per chat, for every
    process at once). On PostgreSQL concurrent claims skip each other's locked rows.
    """
    other = aliased(OutboxMessage)
    busy = (
        select(other.id)
        .where(
            other.user_id == OutboxMessage.user_id,
            other.id != OutboxMessage.id,
            or_(
                and_(other.status == OutboxStatus.SENDING, other.lease_until > now),
                and_(other.status == OutboxStatus.SENT, other.sent_at > now - chat_interval),
            ),
        )
        .exists()
    )
    stmt = (
        select(OutboxMessage, User.external_id)
        .join(User, User.id == OutboxMessage.user_id)
        .where(
            or_(
                and_(OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.due_at <= now),
                and_(
                    OutboxMessage.status == OutboxStatus.SENDING,
                    OutboxMessage.lease_until <= now,
                ),
            ),
            ~busy,
        )
        .order_by(OutboxMessage.due_at, OutboxMessage.id)
        .limit(limit * 2)
    )
    if _locking(session):
        stmt = stmt.with_for_update(of=OutboxMessage, skip_locked=True)
    rows = (await session.execute(stmt)).all()
    claimed: list[Outgoing] = []
    people: set[int] = set()
    for message, chat_id in rows:
        if message.user_id in people or len(claimed) >= limit:
            continue
        people.add(message.user_id)
        message.status = OutboxStatus.SENDING
        message.lease_owner = owner
        message.lease_until = now + lease
        message.attempts += 1
        claimed.append(
            Outgoing(
                message.id,
                message.user_id,
                chat_id,
                message.kind,
                message.payload,
                message.attempts,
            )
        )
    return claimed


def _held(outbox_id: int) -> Any:
    """The row is still in the state a send leaves it in (not already recorded as sent)."""
    return and_(OutboxMessage.id == outbox_id, OutboxMessage.status != OutboxStatus.SENT)


async def mark_sent(session: AsyncSession, outbox_id: int, now: datetime) -> None:
    """Sent: recorded once, however often the row was claimed."""
    await session.execute(
        update(OutboxMessage)
        .where(_held(outbox_id))
        .values(
            status=OutboxStatus.SENT,
            sent_at=now,
            last_error=None,
            lease_owner=None,
            lease_until=None,
        )
    )


async def mark_retry(session: AsyncSession, outbox_id: int, due_at: datetime, error: str) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(_held(outbox_id))
        .values(
            status=OutboxStatus.QUEUED,
            due_at=due_at,
            last_error=error[:200],
            lease_owner=None,
            lease_until=None,
        )
    )


async def release(session: AsyncSession, outbox_ids: list[int], owner: str) -> int:
    """Give back claimed rows that were not sent (a clean stop): queued again, attempt undone."""
    if not outbox_ids:
        return 0
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(outbox_ids),
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.lease_owner == owner,
        )
        .values(
            status=OutboxStatus.QUEUED,
            attempts=OutboxMessage.attempts - 1,
            lease_owner=None,
            lease_until=None,
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def renew(session: AsyncSession, owner: str, until: datetime) -> int:
    """Extend the leases `owner` holds: a live process keeps its rows however slow a send is."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.lease_owner == owner, OutboxMessage.status == OutboxStatus.SENDING)
        .values(lease_until=until)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def mark_final(
    session: AsyncSession, outbox_id: int, status: OutboxStatus, error: str
) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(_held(outbox_id))
        .values(status=status, last_error=error[:200], lease_owner=None, lease_until=None)
    )


async def block_user(session: AsyncSession, user_id: int) -> None:
    """A 403: the user blocked the bot. Mark them, and skip what is still queued for them."""
    await session.execute(update(User).where(User.id == user_id).values(blocked=True))
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.user_id == user_id, OutboxMessage.status == OutboxStatus.QUEUED)
        .values(status=OutboxStatus.BLOCKED)
    )


async def campaign_counts(session: AsyncSession, campaign_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(
            OutboxMessage.status, func.count(), func.coalesce(func.sum(OutboxMessage.attempts), 0)
        )
        .where(OutboxMessage.campaign_id == campaign_id)
        .group_by(OutboxMessage.status)
    )
    counts: Counter[str] = Counter()
    attempts = 0
    for status, count, tries in rows.all():
        counts[status.value if hasattr(status, "value") else str(status)] += int(count)
        attempts += int(tries)
    return {
        "total": sum(counts.values()),
        "queued": counts["queued"] + counts["sending"],
        "sent": counts["sent"],
        "failed": counts["failed"] + counts["blocked"],
        "blocked": counts["blocked"],
        "opted_out": counts["opted_out"],
        "attempts": attempts,
    }
