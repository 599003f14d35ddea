"""Wiring: the objects one Leerloop process shares (settings, database, knowledge base,
dialogue manager)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.db import create_engine, create_read_engine, session_factory, upgrade, utcnow
from core.settings import Settings
from dialogues import DialogueManager, Interpreter
from knowledge import Knowledge, seed_knowledge


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    dialogue: DialogueManager
    knowledge: Knowledge = field(default_factory=Knowledge)
    # Read-only transactions (no write lock on SQLite); None: the same as `sessions`.
    read_engine: AsyncEngine | None = None
    _read_sessions: async_sessionmaker[AsyncSession] | None = None
    _warm_up: asyncio.Task[None] | None = None

    @property
    def read_sessions(self) -> async_sessionmaker[AsyncSession]:
        """Sessions for work that only reads (GET requests, index rebuilds)."""
        return self._read_sessions or self.sessions

    @classmethod
    async def start(
        cls,
        settings: Settings,
        *,
        interpreter: Interpreter | None = None,
        warm_up: bool = False,
    ) -> Services:
        """Connect, migrate, seed the knowledge base, load the NLU, build the dialogue manager."""
        engine = create_engine(settings.database_url)
        await upgrade(engine)
        sessions = session_factory(engine)
        async with sessions() as session, session.begin():
            await seed_knowledge(session, with_examples=settings.seed_examples)
        if interpreter is None:
            from bot._interpreter import NluInterpreter

            interpreter = NluInterpreter.in_background()
        read_engine = create_read_engine(settings.database_url)
        read_sessions = session_factory(read_engine) if read_engine else None
        knowledge = Knowledge(read_sessions=read_sessions)
        services = cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            dialogue=DialogueManager(
                sessions=sessions, settings=settings, interpreter=interpreter, knowledge=knowledge
            ),
            knowledge=knowledge,
            read_engine=read_engine,
            _read_sessions=read_sessions,
        )
        if warm_up:  # a server builds the search index before anyone asks
            services._warm_up = asyncio.create_task(services._build_course_index())
        return services

    async def _build_course_index(self) -> None:
        """Build the search index now, so the first course search does not wait for it."""
        async with self.read_sessions() as session:
            await self.knowledge.course_index(session, utcnow().date())

    async def close(self) -> None:
        if self._warm_up is not None and not self._warm_up.done():
            self._warm_up.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._warm_up
        await self.engine.dispose()
        if self.read_engine is not None:
            await self.read_engine.dispose()
