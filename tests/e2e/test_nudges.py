"""Nudges and team campaigns over the fake Bot API: on time, not in quiet hours, stop stops,
429 waits, 403 blocks, and a restart mid-campaign sends everyone exactly one message."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot import Services
from bot.nudge_delivery import NudgeDelivery
from bot.telegram_channel import TelegramChannel
from core.db import create_engine, session_factory, upgrade
from core.models import (
    Channel,
    NudgePreference,
    OrgKind,
    OutboxMessage,
    Team,
    TeamRole,
    User,
)
from knowledge import seed_knowledge
from services import create_organisation
from services.nudges import create_campaign, ensure_preference
from services.teams import create_team, join_team
from tests.support import FakeTelegram
from tests.support.processes import LeerloopProcess, clean_env, free_port

pytestmark = pytest.mark.e2e

AMS = ZoneInfo("Europe/Amsterdam")
MONDAY_0859 = datetime(2026, 11, 30, 8, 59, tzinfo=AMS)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now.astimezone(UTC)


async def _user(services: Services, chat_id: int, **pref: Any) -> int:
    """A worker with consent who said yes to nudges (default: Mondays 09:00, quiet 21-08)."""
    async with services.sessions() as session, session.begin():
        user = User(channel=Channel.TELEGRAM, external_id=str(chat_id), consent=True, name="X")
        session.add(user)
        await session.flush()
        p = await ensure_preference(session, user)
        for key, value in pref.items():
            setattr(p, key, value)
        return user.id


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY_0859)


@pytest.fixture
def delivery(telegram_bot: TelegramChannel, clock: Clock) -> NudgeDelivery:
    return NudgeDelivery(telegram_bot.services, telegram_bot.app.bot, clock=clock)


async def test_a_weekly_nudge_arrives_at_its_time_once(
    fake_telegram: FakeTelegram,
    telegram_bot: TelegramChannel,
    delivery: NudgeDelivery,
    clock: Clock,
) -> None:
    await _user(telegram_bot.services, 7001)
    await delivery.tick()
    assert fake_telegram.messages_to(7001) == [], "not before 09:00 on Monday"
    clock.now = MONDAY_0859 + timedelta(minutes=2)
    await delivery.tick()
    [nudge] = await fake_telegram.wait_for_messages(7001, 1)
    assert "leermoment" in (nudge.text or "")
    assert [label for label, _ in nudge.buttons] == ["✅ Gedaan", "⏰ Later", "🔕 Stop"]
    clock.now += timedelta(hours=3)
    await delivery.tick()
    clock.now = MONDAY_0859 + timedelta(days=3, hours=2)  # Thursday: not the chosen day
    await delivery.tick()
    assert len(fake_telegram.messages_to(7001)) == 1, "at most one a week"
    clock.now = MONDAY_0859 + timedelta(days=7, minutes=5)
    await delivery.tick()
    assert len(await fake_telegram.wait_for_messages(7001, 2)) == 2


async def test_no_nudge_in_quiet_hours(
    fake_telegram: FakeTelegram,
    telegram_bot: TelegramChannel,
    delivery: NudgeDelivery,
    clock: Clock,
) -> None:
    await _user(telegram_bot.services, 7002, at_minute=22 * 60)  # chose 22:00, quiet 21-08
    clock.now = MONDAY_0859.replace(hour=22, minute=5)
    await delivery.tick()
    clock.now = MONDAY_0859.replace(hour=23, minute=30)
    await delivery.tick()
    assert fake_telegram.messages_to(7002) == []
    clock.now = MONDAY_0859 + timedelta(days=1, minutes=1)  # Tuesday 09:00
    await delivery.tick()
    assert len(await fake_telegram.wait_for_messages(7002, 1)) == 1


async def test_stop_button_really_stops(
    fake_telegram: FakeTelegram,
    telegram_bot: TelegramChannel,
    delivery: NudgeDelivery,
    clock: Clock,
) -> None:
    user_id = await _user(telegram_bot.services, 7003)
    clock.now = MONDAY_0859 + timedelta(minutes=1)
    await delivery.tick()
    [nudge] = await fake_telegram.wait_for_messages(7003, 1)
    fake_telegram.push_button(nudge, "🔕 Stop")
    messages = await fake_telegram.wait_for_messages(7003, 2)
    assert "Gestopt" in (messages[1].text or "")
    async with telegram_bot.services.sessions() as session:
        pref = await session.get(NudgePreference, user_id)
        assert pref is not None and pref.stopped
    clock.now += timedelta(days=7)
    await delivery.tick()
    await asyncio.sleep(0.3)
    assert len(fake_telegram.messages_to(7003)) == 2, "nothing after stop"


async def _team(services: Services, chats: list[int], stopped: frozenset[int] = frozenset()) -> int:
    async with services.sessions() as session, session.begin():
        employer, _ = await create_organisation(session=session, name="W", kind=OrgKind.EMPLOYER)
        team = await create_team(session=session, employer=employer, name="Team")
        for chat in chats:
            user = User(channel=Channel.TELEGRAM, external_id=str(chat), consent=True)
            session.add(user)
            await session.flush()
            await join_team(
                session=session, team=team, user=user, role=TeamRole.MEMBER, share_progress=False
            )
            if chat in stopped:
                (await ensure_preference(session, user)).stopped = True
        return team.id


async def _campaign(services: Services, team_id: int, at: datetime) -> int:
    async with services.sessions() as session, session.begin():
        team = await session.get(Team, team_id)
        assert team is not None
        return (await create_campaign(session, team, "Vergeet de training niet!", at)).id


async def test_campaign_honours_opt_outs_403_and_429(
    fake_telegram: FakeTelegram,
    telegram_bot: TelegramChannel,
    delivery: NudgeDelivery,
    clock: Clock,
) -> None:
    from services.outbox import campaign_counts

    services = telegram_bot.services
    clock.now = MONDAY_0859.replace(hour=10)
    team_id = await _team(services, [8001, 8002, 8003, 8004], stopped=frozenset({8002}))
    fake_telegram.block_chat(8003)
    fake_telegram.fail_next("sendMessage", 429, retry_after=1)
    campaign_id = await _campaign(services, team_id, clock())
    await delivery.tick()
    assert [m.text for m in fake_telegram.messages_to(8001)] == [
        "Bericht van je werkgever (team Team):\nVergeet de training niet!"
    ]
    assert len(fake_telegram.messages_to(8004)) == 1
    assert fake_telegram.messages_to(8002) == []  # opted out
    async with services.sessions() as session:
        counts = await campaign_counts(session, campaign_id)
        blocked = await session.scalar(select(User.blocked).where(User.external_id == "8003"))
    assert counts == {
        "total": 4,
        "queued": 0,
        "sent": 2,
        "failed": 1,
        "blocked": 1,
        "opted_out": 1,
        "attempts": 3,  # one claim each for 8001, 8003, 8004 (the 429 is retried inside one)
    }
    assert blocked is True
    assert telegram_bot.app.bot.rate_limiter.retry_after_count == 1  # type: ignore[union-attr]


async def test_campaign_waits_for_quiet_hours_to_end(
    fake_telegram: FakeTelegram,
    telegram_bot: TelegramChannel,
    delivery: NudgeDelivery,
    clock: Clock,
) -> None:
    services = telegram_bot.services
    clock.now = MONDAY_0859.replace(hour=22)
    team_id = await _team(services, [8101])
    await _campaign(services, team_id, clock())
    await delivery.tick()
    assert fake_telegram.messages_to(8101) == []
    clock.now = MONDAY_0859 + timedelta(days=1, minutes=-59)  # Tuesday 08:00
    await delivery.tick()
    assert len(await fake_telegram.wait_for_messages(8101, 1)) == 1


async def test_a_restart_in_the_middle_of_a_campaign_sends_everyone_exactly_once(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    """A real `leerloop run` process, stopped with SIGTERM halfway and started again."""
    recipients = 240
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'campaign.db'}"
    engine = create_engine(db_url)
    await upgrade(engine)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await seed_knowledge(session, with_examples=False)
        employer, _ = await create_organisation(session=session, name="W", kind=OrgKind.EMPLOYER)
        team = await create_team(session=session, employer=employer, name="Groot team")
        for number in range(recipients):
            user = User(channel=Channel.TELEGRAM, external_id=str(900_000 + number), consent=True)
            session.add(user)
            await session.flush()
            await join_team(
                session=session, team=team, user=user, role=TeamRole.MEMBER, share_progress=False
            )
            # Quiet hours off, so the test does not depend on the time of day it runs.
            (await ensure_preference(session, user)).quiet_start = 0
            (await ensure_preference(session, user)).quiet_end = 0
        await create_campaign(session, team, "Hallo team!", datetime.now(UTC))
    await engine.dispose()
    env = clean_env(
        DATABASE_URL=db_url,
        TELEGRAM_BOT_TOKEN=fake_telegram.token,
        TELEGRAM_API_BASE_URL=fake_telegram.base_url,
        NUDGE_TICK_SECONDS="0.2",
        LOG_LEVEL="INFO",
    )

    def delivered() -> int:
        return sum(1 for m in fake_telegram.sent if m.chat_id >= 900_000)

    first = LeerloopProcess(tmp_path, env | {"HTTP_PORT": str(free_port())})
    await first.start()
    try:
        await fake_telegram.wait_until(lambda: delivered() >= recipients // 3, timeout=60)
    finally:
        assert await first.stop() == 0
    halfway = delivered()
    assert halfway < recipients, "the restart must happen mid-campaign"
    second = LeerloopProcess(tmp_path, env | {"HTTP_PORT": str(free_port())})
    await second.start()
    try:
        await fake_telegram.wait_until(lambda: delivered() >= recipients, timeout=60)
        await asyncio.sleep(1.0)  # anything extra would arrive now
    finally:
        assert await second.stop() == 0
    per_chat = Counter(m.chat_id for m in fake_telegram.sent if m.chat_id >= 900_000)
    assert len(per_chat) == recipients, "nobody missed"
    assert set(per_chat.values()) == {1}, "nobody got it twice"
    engine = create_engine(db_url)
    async with session_factory(engine)() as session:
        statuses = await session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        )
        assert {s.value: n for s, n in statuses.all()} == {"sent": recipients}
    await engine.dispose()


async def test_later_brings_the_nudge_back_tomorrow_and_done_ticks_the_step(
    fake_telegram: FakeTelegram,
    telegram_bot: TelegramChannel,
    delivery: NudgeDelivery,
    clock: Clock,
) -> None:
    await _user(telegram_bot.services, 7004)
    telegram_bot.services.dialogue.clock = clock  # the bot and the engine share one clock
    clock.now = MONDAY_0859 + timedelta(minutes=1)
    await delivery.tick()
    [nudge] = await fake_telegram.wait_for_messages(7004, 1)
    fake_telegram.push_button(nudge, "⏰ Later")
    messages = await fake_telegram.wait_for_messages(7004, 2)
    assert "morgen" in (messages[1].text or "")
    clock.now += timedelta(hours=23)
    await delivery.tick()
    assert len(fake_telegram.messages_to(7004)) == 2, "not before tomorrow"
    clock.now += timedelta(hours=2)
    await delivery.tick()
    messages = await fake_telegram.wait_for_messages(7004, 3)
    assert "herinnering die je vroeg" in (messages[2].text or "")
    fake_telegram.push_button(messages[2], "✅ Gedaan")
    messages = await fake_telegram.wait_for_messages(7004, 4)
    assert "goed bezig" in (messages[3].text or "")
