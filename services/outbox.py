"""The outbox: one row per message to send; the delivery engine (`bot/nudge_delivery.py`) claims
due rows, sends them and records each outcome.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import OutboxMessage, OutboxStatus, User


@dataclass(frozen=True)
class Outgoing:
    id: int
    user_id: int
    chat_id: str
    kind: str
    payload: dict[str, Any]
    attempts: int


async def requeue_interrupted(session: AsyncSession) -> int:
    """Rows left "sending" by a process that died: send them again (at least once)."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.SENDING)
        .values(status=OutboxStatus.QUEUED)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def claim_due(session: AsyncSession, now: datetime, limit: int) -> list[Outgoing]:
    """Take up to `limit` due rows and mark them "sending" (commit before sending)."""
    stmt = (
        select(OutboxMessage, User.external_id)
        .join(User, User.id == OutboxMessage.user_id)
        .where(OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.due_at <= now)
        .order_by(OutboxMessage.due_at, OutboxMessage.id)
        .limit(limit)
    )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=OutboxMessage, skip_locked=True)
    rows = (await session.execute(stmt)).all()
    claimed = []
    for message, chat_id in rows:
        message.status = OutboxStatus.SENDING
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


async def mark_sent(session: AsyncSession, outbox_id: int, now: datetime) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id)
        .values(status=OutboxStatus.SENT, sent_at=now, last_error=None)
    )


async def mark_retry(session: AsyncSession, outbox_id: int, due_at: datetime, error: str) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id)
        .values(status=OutboxStatus.QUEUED, due_at=due_at, last_error=error[:200])
    )


async def mark_final(
    session: AsyncSession, outbox_id: int, status: OutboxStatus, error: str
) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id)
        .values(status=status, last_error=error[:200])
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
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.campaign_id == campaign_id)
        .group_by(OutboxMessage.status)
    )
    counts: Counter[str] = Counter()
    for status, count in rows.all():
        counts[status.value if hasattr(status, "value") else str(status)] += int(count)
    return {
        "total": sum(counts.values()),
        "queued": counts["queued"] + counts["sending"],
        "sent": counts["sent"],
        "failed": counts["failed"] + counts["blocked"],
        "blocked": counts["blocked"],
        "opted_out": counts["opted_out"],
    }
