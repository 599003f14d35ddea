"""The knowledge base one app owns: the search and occupation indexes of its database.

`Knowledge` replaces the module caches that used to be keyed by engine URL. The app makes one
(`bot/_services.py`) and hands it to the chat actions (`ctx.knowledge`), the HTTP API and the
CLI; a test makes its own, so nothing leaks between tests or between two databases.

The course index is rebuilt when the catalogue revision or the date changes (see
`knowledge/catalogue.py`). With `read_sessions` the rows for a rebuild are read in a read-only
transaction of their own (no write lock on SQLite) and the index is built in a worker thread,
so a rebuild never runs inside a write transaction; concurrent callers wait for one rebuild
instead of each starting their own.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from knowledge.catalogue import current_revision, load_records
from knowledge.models import Leerwerkloket, Occupation
from knowledge.occupations import OccupationIndex, SkillGroup, skill_groups_for
from knowledge.places import Location, find_location, loket_for, regions_in_province
from knowledge.search import CourseIndex, CourseRecord, SearchQuery, SearchResult

logger = logging.getLogger(__name__)

# Indexes kept per (revision, day): the current one, and one more for a caller that still
# sees the previous revision or day in its transaction.
_KEEP_INDEXES = 2


class Knowledge:
    """Courses, occupations and places of one database, with the indexes built from them."""

    def __init__(self, *, read_sessions: async_sessionmaker[AsyncSession] | None = None) -> None:
        self._read_sessions = read_sessions
        self._course_indexes: OrderedDict[tuple[int, date], CourseIndex] = OrderedDict()
        self._course_lock = asyncio.Lock()
        self._occupations: OccupationIndex | None = None
        self._occupation_lock = asyncio.Lock()

    # ------------------------------------------------------------------ courses

    async def course_index(self, session: AsyncSession, today: date) -> CourseIndex:
        """The search index of the catalogue as `session` sees it, rebuilt when it changed."""
        key = (await current_revision(session), today)
        index = self._cached(key)
        if index is not None:
            return index
        async with self._course_lock:  # one rebuild, however many ask at once
            index = self._cached(key)
            if index is not None:
                return index
            records = await self._course_records(session, key[0])
            index = await asyncio.to_thread(CourseIndex, records, today)
            self._course_indexes[key] = index
            while len(self._course_indexes) > _KEEP_INDEXES:
                self._course_indexes.popitem(last=False)
            logger.info("course index rebuilt: %d courses", len(records))
            return index

    def _cached(self, key: tuple[int, date]) -> CourseIndex | None:
        index = self._course_indexes.get(key)
        if index is not None:
            self._course_indexes.move_to_end(key)
        return index

    async def _course_records(self, session: AsyncSession, revision: int) -> list[CourseRecord]:
        """The rows for a rebuild: from a read-only transaction when that sees the same
        catalogue, else (the caller wrote courses it has not committed yet) from `session`."""
        if self._read_sessions is not None:
            async with self._read_sessions() as reader, reader.begin():
                if await current_revision(reader) == revision:
                    return await load_records(reader)
        return await load_records(session)

    async def search_courses(
        self,
        session: AsyncSession,
        query: SearchQuery,
        *,
        today: date,
        offset: int = 0,
        limit: int = 10,
    ) -> SearchResult:
        index = await self.course_index(session, today)
        return index.search(query, offset=offset, limit=limit)

    # -------------------------------------------------------------- occupations

    async def occupation_index(self, session: AsyncSession) -> OccupationIndex:
        """Every ESCO occupation by its labels (built once: the taxonomy is seed data)."""
        if self._occupations is None:
            async with self._occupation_lock:
                if self._occupations is None:
                    occupations = list((await session.scalars(select(Occupation))).all())
                    self._occupations = await asyncio.to_thread(OccupationIndex, occupations)
        return self._occupations

    async def skill_groups_for(
        self, session: AsyncSession, isco_code: str | None
    ) -> list[SkillGroup]:
        """The skill groups a reflection asks about for work in this ISCO group."""
        return await skill_groups_for(session, isco_code)

    # ------------------------------------------------------------------- places

    async def find_location(self, session: AsyncSession, text: str) -> Location | None:
        """The place, municipality, region or province named in `text`."""
        return await find_location(session, text)

    async def loket_for(self, session: AsyncSession, location: Location) -> Leerwerkloket | None:
        """The Leerwerkloket for a place or region; a province alone is ambiguous (None)."""
        return await loket_for(session, location)

    async def regions_in_province(self, session: AsyncSession, province: str) -> list[str]:
        return await regions_in_province(session, province)
