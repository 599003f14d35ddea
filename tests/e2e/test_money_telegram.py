"""Money over the fake Bot API: the wallet chart arrives as a photo (sendPhoto) with its text,
and members hear about money that arrives (through the outbox, not those who stopped)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot import Services
from bot.nudge_delivery import NudgeDelivery
from bot.telegram_channel import TelegramChannel
from core.db import utcnow
from core.models import Channel, OrgKind, Team, TeamRole, User
from services import create_organisation
from services.nudges import ensure_preference
from services.teams import CreditOrder, create_team, credit_team, join_team
from tests.support import FakeTelegram

pytestmark = pytest.mark.e2e

PNG = b"\x89PNG\r\n\x1a\n"


async def _members(services: Services, chats: list[int], stopped: tuple[int, ...] = ()) -> int:
    async with services.sessions() as session, session.begin():
        employer, _ = await create_organisation(
            session=session, name="Bakkerij", kind=OrgKind.EMPLOYER
        )
        team = await create_team(session=session, employer=employer, name="Bakkers")
        for chat in chats:
            user = User(channel=Channel.TELEGRAM, external_id=str(chat), consent=True, name="X")
            session.add(user)
            await session.flush()
            pref = await ensure_preference(session, user)
            pref.stopped = chat in stopped
            await join_team(
                session=session, team=team, user=user, role=TeamRole.MEMBER, share_progress=False
            )
        return team.id


async def _credit(services: Services, team_id: int, cents: int, days: int, key: str) -> None:
    async with services.sessions() as session, session.begin():
        team = await session.scalar(select(Team).where(Team.id == team_id))
        assert team is not None
        order = CreditOrder(cents, utcnow().date() + timedelta(days=days), "Leerbudget", key)
        await credit_team(session=session, team=team, funder="Bakkerij De Korenschoof", order=order)


async def test_the_wallet_chart_arrives_as_a_photo_with_the_text(
    fake_telegram: FakeTelegram, telegram_bot: TelegramChannel
) -> None:
    chat = 6601
    team = await _members(telegram_bot.services, [chat])
    await _credit(telegram_bot.services, team, 40_000, 20, "a")
    await _credit(telegram_bot.services, team, 25_000, 300, "b")
    fake_telegram.push_text(chat, "/saldo")
    await fake_telegram.wait_until(
        lambda: any(m.method == "sendPhoto" for m in fake_telegram.messages_to(chat))
    )
    messages = fake_telegram.messages_to(chat)
    [photo] = [m for m in messages if m.method == "sendPhoto"]
    assert photo.document is not None and photo.document[1].startswith(PNG)
    assert photo.document[0].endswith(".png")
    assert photo.text and "per einddatum" in photo.text  # the caption says it in words
    texts = "\n".join(m.text or "" for m in messages if m.method == "sendMessage")
    assert "Wanneer je geld vervalt" in texts and "€ 400" in texts  # the text stays


async def test_members_hear_when_money_arrives_but_not_who_stopped(
    fake_telegram: FakeTelegram, telegram_bot: TelegramChannel
) -> None:
    team = await _members(telegram_bot.services, [6611, 6612], stopped=(6612,))
    await _credit(telegram_bot.services, team, 25_000, 90, "q1")
    noon = datetime.now(UTC).replace(hour=11, minute=0) + timedelta(days=1)  # not in quiet hours
    delivery = NudgeDelivery(telegram_bot.services, telegram_bot.app.bot, clock=lambda: noon)
    await delivery.tick()
    [message] = await fake_telegram.wait_for_messages(6611, 1)
    assert message.text is not None
    assert "Bakkerij De Korenschoof heeft € 250 in je leerbudget gezet" in message.text
    assert "/saldo" in message.text
    await delivery.tick()
    assert len(fake_telegram.messages_to(6611)) == 1, "once"
    assert fake_telegram.messages_to(6612) == []
