"""Several real `leerloop run` processes on one PostgreSQL over the fake Bot API (which answers
429 above 30 messages a second, as Telegram does): a second process started mid-campaign sends
nothing twice, a SIGKILL loses nothing and duplicates at most what was underway, SIGTERM neither.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.db import create_engine, session_factory
from core.models import Channel, OrgKind, OutboxMessage, TeamRole, User
from services import create_organisation
from services.nudges import create_campaign, ensure_preference
from services.teams import create_team, join_team
from tests.support import FakeTelegram
from tests.support.databases import migrated_postgres, postgres_url
from tests.support.processes import LeerloopProcess, clean_env, free_port

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(postgres_url() is None, reason="TEST_POSTGRES_URL is not set"),
]

MEMBERS = 300
FIRST_CHAT = 700_000
CHATS = range(FIRST_CHAT, FIRST_CHAT + MEMBERS)
CONCURRENCY = 8


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    server = postgres_url()
    assert server is not None
    async with migrated_postgres(server) as url:
        yield url


async def campaign(db_url: str, members: int = MEMBERS) -> int:
    """A team of `members` with quiet hours off (the test runs at any hour), a campaign now."""
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            employer, _ = await create_organisation(
                session=session, name="W", kind=OrgKind.EMPLOYER
            )
            team = await create_team(session=session, employer=employer, name="Groot team")
            for number in range(members):
                user = User(
                    channel=Channel.TELEGRAM, external_id=str(FIRST_CHAT + number), consent=True
                )
                session.add(user)
                await session.flush()
                await join_team(
                    session=session,
                    team=team,
                    user=user,
                    role=TeamRole.MEMBER,
                    share_progress=False,
                )
                pref = await ensure_preference(session, user)
                pref.quiet_start = pref.quiet_end = 0
            return (await create_campaign(session, team, "Hallo team!", datetime.now(UTC))).id
    finally:
        await engine.dispose()


async def outbox_statuses(db_url: str) -> dict[str, int]:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            rows = await session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            )
            return {s.value: n for s, n in rows.all()}
    finally:
        await engine.dispose()


def env_for(fake: FakeTelegram, db_url: str, **extra: str) -> dict[str, str]:
    return clean_env(
        DATABASE_URL=db_url,
        TELEGRAM_BOT_TOKEN=fake.token,
        TELEGRAM_API_BASE_URL=fake.base_url,
        NUDGE_TICK_SECONDS="0.2",
        NUDGE_CONCURRENCY=str(CONCURRENCY),
        LEERLOOP_LEASE_SECONDS="4",
        LEERLOOP_SEED_EXAMPLES="false",
        LOG_LEVEL="INFO",
        **extra,
    )


def process(tmp_path: Path, env: dict[str, str], name: str) -> LeerloopProcess:
    cwd = tmp_path / name
    cwd.mkdir(exist_ok=True)
    return LeerloopProcess(cwd, env | {"HTTP_PORT": str(free_port())})


def delivered(fake: FakeTelegram) -> Counter[int]:
    return Counter(m.chat_id for m in fake.sent if m.chat_id in CHATS)


@pytest.fixture
async def flood_controlled() -> AsyncIterator[FakeTelegram]:
    fake = await FakeTelegram().start()
    fake.max_per_second = 30
    yield fake
    await fake.stop()


async def test_a_second_process_mid_campaign_sends_nothing_twice(
    flood_controlled: FakeTelegram, pg_url: str, tmp_path: Path
) -> None:
    fake = flood_controlled
    await campaign(pg_url)
    env = env_for(fake, pg_url)
    first = await process(tmp_path, env, "a").start()
    second = process(tmp_path, env, "b")
    try:
        await fake.wait_until(lambda: sum(delivered(fake).values()) >= MEMBERS // 4, timeout=90)
        await second.start()
        assert sum(delivered(fake).values()) < MEMBERS, "the second must start mid-campaign"
        # A load balancer's check: 503 "starting" while the NLU and the index load, then 200;
        # the second sends only from then on (loading competes with the first for the CPU).
        assert await second.readiness() == ["starting", "ready"]
        await fake.wait_until(lambda: len(delivered(fake)) >= MEMBERS, timeout=90)
        await asyncio.sleep(1.0)  # anything extra would arrive now
    finally:
        assert await first.stop() == 0
        if second.proc is not None:
            assert await second.stop() == 0
    counts = delivered(fake)
    assert len(counts) == MEMBERS, "nobody missed"
    assert sum(counts.values()) - MEMBERS == 0, "nobody got it twice"
    assert fake.max_in_any_second(CHATS) <= 30
    # Every broadcast holds a shared permit until a second after its answer: however the two
    # processes' requests are delayed on the way, the fake's strict window never sees 31.
    print(f"second process mid-campaign: {fake.too_many} answered 429")
    assert fake.too_many == 0
    assert await outbox_statuses(pg_url) == {"sent": MEMBERS}


async def test_sigkill_mid_campaign_loses_nothing_and_duplicates_at_most_what_was_underway(
    flood_controlled: FakeTelegram, pg_url: str, tmp_path: Path
) -> None:
    fake = flood_controlled
    await campaign(pg_url)
    env = env_for(fake, pg_url)
    first = await process(tmp_path, env, "a").start()
    await fake.wait_until(lambda: sum(delivered(fake).values()) >= MEMBERS // 3, timeout=90)
    assert await first.kill() != 0
    assert sum(delivered(fake).values()) < MEMBERS
    second = await process(tmp_path, env, "b").start()
    try:
        await fake.wait_until(lambda: len(delivered(fake)) >= MEMBERS, timeout=90)
        await asyncio.sleep(1.0)
    finally:
        assert await second.stop() == 0
    counts = delivered(fake)
    duplicates = sum(counts.values()) - MEMBERS
    print(
        f"SIGKILL mid-campaign: {duplicates} duplicates (concurrency {CONCURRENCY}), "
        f"{fake.too_many} answered 429"
    )
    assert len(counts) == MEMBERS, "nobody missed"
    assert duplicates <= CONCURRENCY
    assert fake.max_in_any_second(CHATS) <= 30
    # The killed process's permits in flight stay held (they expire by themselves), so its
    # requests still on the wire cannot make 31 with the next process's first sends.
    assert fake.too_many == 0
    assert await outbox_statuses(pg_url) == {"sent": MEMBERS}


async def test_sigterm_mid_campaign_then_restart_sends_everyone_exactly_once(
    flood_controlled: FakeTelegram, pg_url: str, tmp_path: Path
) -> None:
    fake = flood_controlled
    await campaign(pg_url)
    env = env_for(fake, pg_url)
    first = await process(tmp_path, env, "a").start()
    await fake.wait_until(lambda: sum(delivered(fake).values()) >= MEMBERS // 3, timeout=90)
    assert await first.stop() == 0
    second = await process(tmp_path, env, "b").start()
    try:
        await fake.wait_until(lambda: len(delivered(fake)) >= MEMBERS, timeout=90)
        await asyncio.sleep(1.0)
    finally:
        assert await second.stop() == 0
    counts = delivered(fake)
    assert len(counts) == MEMBERS
    assert set(counts.values()) == {1}
    assert await outbox_statuses(pg_url) == {"sent": MEMBERS}
