"""Wiring: the objects one Leerloop process shares (settings, database, dialogue manager)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.db import create_engine, session_factory, upgrade
from core.settings import Settings
from dialogues import DialogueManager, Interpreter
from knowledge import seed_knowledge


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    dialogue: DialogueManager

    @classmethod
    async def start(cls, settings: Settings, *, interpreter: Interpreter | None = None) -> Services:
        """Connect, migrate, seed the knowledge base, load the NLU, build the dialogue manager."""
        engine = create_engine(settings.database_url)
        await upgrade(engine)
        sessions = session_factory(engine)
        async with sessions() as session, session.begin():
            await seed_knowledge(session, with_examples=settings.seed_examples)
        if interpreter is None:
            from bot._interpreter import NluInterpreter

            interpreter = NluInterpreter.in_background()
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            dialogue=DialogueManager(sessions=sessions, settings=settings, interpreter=interpreter),
        )

    async def close(self) -> None:
        await self.engine.dispose()
