"""After "Wis alles" nothing of the person is left in any table: no row pointing to them and
no text they wrote, including the team messages a manager sent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import JSON, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import Base
from core.models import Campaign, Channel, OrgKind, TeamRole, User
from services import create_organisation, delete_user_data, personal_tables
from services.nudges import create_campaign
from services.teams import create_team, join_team

pytestmark = pytest.mark.db

MARK = "Pim-de-Vries-geheim"


async def test_delete_leaves_nothing_in_any_table(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        employer, _ = await create_organisation(
            session=session, name="Bakkerij", kind=OrgKind.EMPLOYER
        )
        team = await create_team(session=session, employer=employer, name="Bakkers")
        manager = User(channel=Channel.TELEGRAM, external_id="31337", consent=True, name=MARK)
        session.add(manager)
        await session.flush()
        await join_team(
            session=session, team=team, user=manager, role=TeamRole.MANAGER, share_progress=False
        )
        await create_campaign(
            session, team, f"Hoi team, groet van {MARK}", datetime.now(UTC), sender_id=manager.id
        )
        api_message = await create_campaign(session, team, "Van de werkgever", datetime.now(UTC))
        user_id, api_id = manager.id, api_message.id
    assert "campaigns" in {table.name for table, _ in personal_tables()}
    async with sessions() as session, session.begin():
        user = await session.get(User, user_id)
        assert user is not None
        await delete_user_data(session=session, user=user)
    async with sessions() as session:
        for table, column in personal_tables():
            rows = (await session.execute(select(table).where(column == user_id))).all()
            assert rows == [], table.name
        for table in Base.metadata.sorted_tables:  # and no text of theirs anywhere
            texts = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
            for row in (await session.execute(select(*texts))).all() if texts else []:
                assert MARK not in repr(tuple(row)), table.name
        assert await session.get(Campaign, api_id) is not None  # the employer's own message stays
