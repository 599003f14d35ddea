"""Users: find or create by channel and chat id; mark blocked chats."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Channel, User


async def get_or_create_user(*, session: AsyncSession, channel: Channel, external_id: str) -> User:
    """Return the user for this chat, creating a row that holds nothing but the chat id."""
    stmt = select(User).where(User.channel == channel, User.external_id == external_id)
    user = (await session.execute(stmt)).scalar_one_or_none()
    if user is not None:
        return user
    user = User(channel=channel, external_id=external_id)
    try:
        async with session.begin_nested():
            session.add(user)
    except IntegrityError:  # created by a concurrent update of the same chat
        return (await session.execute(stmt)).scalar_one()
    return user


async def find_user(*, session: AsyncSession, channel: Channel, external_id: str) -> User | None:
    stmt = select(User).where(User.channel == channel, User.external_id == external_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def mark_blocked(
    *, session: AsyncSession, channel: Channel, external_id: str, blocked: bool = True
) -> None:
    """Remember that a user blocked the bot (Telegram 403), so nothing more is sent to them."""
    user = await find_user(session=session, channel=channel, external_id=external_id)
    if user is not None:
        user.blocked = blocked


def withdraw_consent(user: User) -> None:
    """Consent withdrawn: forget what was kept because of it (name, region, occupation)."""
    user.consent = False
    user.consent_at = None
    user.name = None
    user.region = None
    user.occupation_uri = None
    user.occupation_label = None
