"""The Telegram inbox: every update is stored (unique by `update_id`) before Telegram hears
"200 OK" or the next poll moves the offset on, then handled from here exactly once.

Any process may handle any update, but one chat's updates go one at a time and in order: an
update is claimed only when it is the oldest open one of its chat, under a lease (which process,
until when) that only a dead process lets run out. The turn and "handled, with these replies"
are one transaction (see `DialogueManager.handle(before_commit=...)`); replies then go out and
the update is "done". A process that dies after the turn resends the stored replies; it never
runs the turn again.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core.models import TelegramUpdate, UpdateStatus

_OPEN = (UpdateStatus.PENDING, UpdateStatus.HANDLED)


@dataclass(frozen=True)
class StoredUpdate:
    update_id: int
    chat_key: str
    payload: dict[str, Any]
    status: UpdateStatus
    replies: list[Any] | None
    attempts: int


def chat_key(payload: dict[str, Any]) -> str:
    """The chat an update belongs to (its order is kept per chat); "-" when it has none."""
    for kind in ("message", "edited_message", "callback_query"):
        part = payload.get(kind)
        if not isinstance(part, dict):
            continue
        if kind == "callback_query":
            sender = part.get("from") or {}
            message = part.get("message") or {}
            chat = message.get("chat") or sender
        else:
            chat = part.get("chat") or {}
        if "id" in chat:
            return str(chat["id"])
    return "-"


async def store(session: AsyncSession, payload: dict[str, Any], now: datetime) -> bool:
    """Keep the update unless it is already kept (Telegram repeats); True when it was new."""
    update_id = int(payload["update_id"])
    values = {
        "update_id": update_id,
        "chat_key": chat_key(payload),
        "payload": payload,
        "status": UpdateStatus.PENDING,
        "attempts": 0,
        "received_at": now,
    }
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    result = await session.execute(
        insert(TelegramUpdate).values(**values).on_conflict_do_nothing(index_elements=["update_id"])
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def claim(
    session: AsyncSession, now: datetime, limit: int, *, owner: str, lease: timedelta
) -> list[StoredUpdate]:
    """Claim up to `limit` updates, each the oldest open one of its chat, for `owner`."""
    older = aliased(TelegramUpdate)
    earlier_open = (
        select(older.update_id)
        .where(
            older.chat_key == TelegramUpdate.chat_key,
            older.update_id < TelegramUpdate.update_id,
            older.status.in_(_OPEN),
        )
        .exists()
    )
    stmt = (
        select(TelegramUpdate)
        .where(
            TelegramUpdate.status.in_(_OPEN),
            or_(TelegramUpdate.lease_until.is_(None), TelegramUpdate.lease_until <= now),
            ~earlier_open,
        )
        .order_by(TelegramUpdate.update_id)
        .limit(limit)
    )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    claimed = []
    for row in (await session.execute(stmt)).scalars():
        row.lease_owner = owner
        row.lease_until = now + lease
        row.attempts += 1
        claimed.append(
            StoredUpdate(
                row.update_id, row.chat_key, row.payload, row.status, row.replies, row.attempts
            )
        )
    return claimed


async def mark_handled(session: AsyncSession, update_id: int, replies: list[Any]) -> None:
    """In the turn's own transaction: the turn ran, these are its replies."""
    await session.execute(
        update(TelegramUpdate)
        .where(TelegramUpdate.update_id == update_id)
        .values(status=UpdateStatus.HANDLED, replies=replies)
    )


async def mark_done(session: AsyncSession, update_id: int, now: datetime) -> None:
    """Replies sent: nothing left to keep but the fact (the id stops repeats)."""
    await session.execute(
        update(TelegramUpdate)
        .where(TelegramUpdate.update_id == update_id)
        .values(status=UpdateStatus.DONE, replies=None, payload={}, done_at=now, lease_owner=None)
    )


async def renew(session: AsyncSession, owner: str, until: datetime) -> None:
    """Extend `owner`'s leases on open updates: a slow turn of a live process stays its own."""
    await session.execute(
        update(TelegramUpdate)
        .where(TelegramUpdate.lease_owner == owner, TelegramUpdate.status.in_(_OPEN))
        .values(lease_until=until)
    )


async def has_open(session: AsyncSession) -> bool:
    found = await session.scalar(
        select(TelegramUpdate.update_id).where(TelegramUpdate.status.in_(_OPEN)).limit(1)
    )
    return found is not None


def encode_bytes(content: bytes) -> str:
    return base64.b64encode(content).decode("ascii")


def decode_bytes(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))


__all__ = [
    "StoredUpdate",
    "chat_key",
    "claim",
    "decode_bytes",
    "encode_bytes",
    "has_open",
    "mark_done",
    "mark_handled",
    "store",
]
