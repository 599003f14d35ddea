from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import Organisation, OrgKind
from services import authenticate, create_organisation

pytestmark = pytest.mark.db


async def test_token_authenticates_and_only_its_hash_is_stored(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        org, token = await create_organisation(
            session=session, name=" ROC Utrecht ", kind=OrgKind.INSTITUTION
        )
    async with sessions() as session:
        stored = (
            await session.execute(select(Organisation).where(Organisation.id == org.id))
        ).scalar_one()
        assert stored.name == "ROC Utrecht"
        assert token not in stored.token_hash
        found = await authenticate(session=session, token=token)
        assert found is not None and found.id == org.id
        assert await authenticate(session=session, token=token + "x") is None
        assert await authenticate(session=session, token="nonsense") is None


async def test_empty_name_is_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        with pytest.raises(ValueError, match="name"):
            await create_organisation(session=session, name="  ", kind=OrgKind.EMPLOYER)
