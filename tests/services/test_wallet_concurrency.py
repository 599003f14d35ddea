"""Money under concurrency, with real transactions on a fresh database (SQLite and PostgreSQL):
many bookings at once never overspend, and one credit request sent twice at once credits once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import Services
from bot.http_api import create_api
from core.db import create_engine, session_factory
from core.models import (
    Booking,
    Channel,
    FundSource,
    OrgKind,
    TeamRole,
    User,
    WalletEntry,
)
from core.settings import Settings
from dialogues import DialogueManager
from services import create_organisation
from services.ledger import Shortfall
from services.teams import create_team, join_team
from services.wallet import book, credit, spendable
from tests.support.databases import DATABASES, migrated_postgres, migrated_sqlite, postgres_url

TODAY = date(2026, 11, 27)


@pytest.fixture(params=DATABASES)
async def fresh_engine(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite":
        async with migrated_sqlite(tmp_path) as url:
            engine = create_engine(url)
            yield engine
            await engine.dispose()
    else:
        server = postgres_url()
        assert server is not None
        async with migrated_postgres(server) as url:
            engine = create_engine(url, pool_size=25, max_overflow=30)
            yield engine
            await engine.dispose()


async def test_fifty_bookings_at_once_against_money_for_ten(fresh_engine: AsyncEngine) -> None:
    sessions = session_factory(fresh_engine)
    async with sessions() as session, session.begin():
        user = User(channel=Channel.CONSOLE, external_id="racer", consent=True)
        session.add(user)
        await session.flush()
        await credit(
            session=session,
            user=user,
            amount_cents=10 * 12_500,
            source=FundSource.EMPLOYER,
            funder="Werkgever",
            expires_on=TODAY + timedelta(days=90),
        )
        user_id = user.id

    async def attempt(number: int) -> bool:
        async with sessions() as session, session.begin():
            me = await session.get(User, user_id)
            assert me is not None
            result = await book(
                session=session, user=me, title=f"Cursus {number}", price_cents=12_500, today=TODAY
            )
            return not isinstance(result, Shortfall)

    outcomes = await asyncio.gather(*(attempt(n) for n in range(50)))
    assert sum(outcomes) == 10
    async with sessions() as session:
        me = await session.get(User, user_id)
        assert me is not None
        assert await spendable(session, me, TODAY) == 0
        assert await session.scalar(select(func.count()).select_from(Booking)) == 10


async def test_the_same_credit_request_twice_at_once_credits_once(
    fresh_engine: AsyncEngine, tmp_path: Path
) -> None:
    sessions = session_factory(fresh_engine)
    async with sessions() as session, session.begin():
        employer, token = await create_organisation(
            session=session, name="Bakkerij Jansen", kind=OrgKind.EMPLOYER
        )
        team = await create_team(session=session, employer=employer, name="Bakkers")
        for number in range(3):
            member = User(channel=Channel.CONSOLE, external_id=f"m{number}", consent=True)
            session.add(member)
            await session.flush()
            await join_team(
                session=session, team=team, user=member, role=TeamRole.MEMBER, share_progress=False
            )
        team_id = team.public_id
    settings = Settings(DATABASE_URL=str(fresh_engine.url), _env_file=None)
    services = Services(
        settings=settings,
        engine=fresh_engine,
        sessions=sessions,
        dialogue=DialogueManager(sessions=sessions, settings=settings),
    )
    body = {
        "amount_cents": 50_000,
        "expires_on": (date.today() + timedelta(days=200)).isoformat(),
        "description": "Opleidingsbudget 2027",
        "idempotency_key": "budget-2027",
    }
    transport = httpx.ASGITransport(app=create_api(services))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        headers = {"Authorization": f"Bearer {token}"}
        url = f"/api/v1/teams/{team_id}/credits"
        first, second = await asyncio.gather(
            client.post(url, json=body, headers=headers),
            client.post(url, json=body, headers=headers),
        )
        third = await client.post(url, json=body, headers=headers)
    assert sorted([first.status_code, second.status_code]) == [200, 201], (first.text, second.text)
    assert first.json() == second.json() == third.json()
    assert third.status_code == 200
    assert first.json()["members_credited"] == 3
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(WalletEntry)) == 3
