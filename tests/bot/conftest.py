"""Fixtures for the edges: the services of one process and an HTTP client for its API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import Services
from bot.http_api import create_api
from core.models import OrgKind
from core.settings import Settings
from dialogues import DialogueManager
from services import create_organisation


@pytest.fixture
def services(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    dialogue: DialogueManager,
) -> Services:
    return Services(settings=settings, engine=engine, sessions=sessions, dialogue=dialogue)


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_api(services))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def token_for(services: Services, kind: OrgKind, name: str | None = None) -> str:
    async with services.sessions() as session, session.begin():
        _, token = await create_organisation(session=session, name=name or f"org {kind}", kind=kind)
    return token
