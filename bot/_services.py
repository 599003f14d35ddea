"""Wiring: the objects one Leerloop process shares (settings, database, knowledge base,
dialogue manager)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import _memory
from core.db import create_engine, create_read_engine, session_factory, upgrade, utcnow
from core.settings import Settings
from dialogues import DialogueManager, Interpreter
from knowledge import Knowledge, seed_knowledge

if TYPE_CHECKING:
    from bot._interpreter import NluInterpreter

logger = logging.getLogger(__name__)


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
    # Set once start-up work is done (a server: search index built, NLU loaded); until then a
    # server is "starting" on /readyz and sends no nudges (loading competes for the CPU).
    warm: asyncio.Event = field(default_factory=asyncio.Event)
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
        loading = None
        if interpreter is None:
            from bot._interpreter import NluInterpreter

            interpreter = loading = NluInterpreter.in_background()
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
            services._warm_up = asyncio.create_task(services._warm(loading))
        else:
            services.warm.set()
        return services

    async def _warm(self, loading: NluInterpreter | None) -> None:
        """Build the search index now, so the first course search does not wait for it; once
        the NLU is loaded too, take what start-up built out of the garbage collector's way."""
        try:
            async with self.read_sessions() as session:
                await self.knowledge.course_index(session, utcnow().date())
            if loading is not None:
                await loading.wait_loaded()
        except Exception:  # every search and parse reports it again; do not hold up the rest
            logger.warning("start-up: warming up failed", exc_info=True)
        else:
            frozen = _memory.freeze_long_lived()
            logger.info("start-up done: %d long-lived objects frozen for the collector", frozen)
        finally:
            self.warm.set()

    async def close(self) -> None:
        if self._warm_up is not None and not self._warm_up.done():
            self._warm_up.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._warm_up
        await self.engine.dispose()
        if self.read_engine is not None:
            await self.read_engine.dispose()
