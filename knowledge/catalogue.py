"""The catalogue as the search sees it: a revision counter and a cached index per database.

Every write to courses sets `kb_meta.revision` to a new random number in the writer's transaction
(random, not +1: a rolled-back write followed by another write must not repeat an old value).
A search first reads the revision (one primary-key lookup); when it or the date changed, the
index is rebuilt from the database. So a course imported by the CLI in another process shows
up in the bot's next search.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Organisation
from knowledge.models import Course, KbMeta, Place, Skill
from knowledge.search import CourseIndex, CourseRecord, SearchQuery, SearchResult

logger = logging.getLogger(__name__)

REVISION = "revision"


async def bump_revision(session: AsyncSession) -> None:
    """Mark the catalogue as changed (in the caller's transaction)."""
    value = secrets.randbelow(2**31 - 1) + 1
    result = await session.execute(update(KbMeta).where(KbMeta.key == REVISION).values(value=value))
    if not result.rowcount:  # type: ignore[attr-defined]
        session.add(KbMeta(key=REVISION, value=value))
        await session.flush()


async def current_revision(session: AsyncSession) -> int:
    value = await session.scalar(select(KbMeta.value).where(KbMeta.key == REVISION))
    return int(value or 0)


async def load_records(session: AsyncSession) -> list[CourseRecord]:
    """Every course with what search and the bot need, ordered by primary key."""
    skills = {
        uri: (label, parent)
        for uri, label, parent in (
            await session.execute(select(Skill.uri, Skill.label, Skill.parent_uri))
        ).all()
    }
    places = {p.name: p for p in (await session.scalars(select(Place))).all()}
    providers = dict((await session.execute(select(Organisation.id, Organisation.name))).all())
    records: list[CourseRecord] = []
    for course in (await session.scalars(select(Course).order_by(Course.id))).all():
        ancestors: set[str] = set()
        for uri in course.skills:
            current: str | None = uri
            while current and current not in ancestors:
                ancestors.add(current)
                current = skills.get(current, ("", None))[1]
        place = places.get(course.location)
        records.append(
            CourseRecord(
                pk=course.id,
                provider_id=course.provider_id,
                provider_name=providers.get(course.provider_id, ""),
                course_id=course.course_id,
                title=course.title,
                description=course.description,
                level=course.level,
                nlqf=course.nlqf,
                format=course.format,
                location=course.location,
                region=course.region,
                labour_market_region=place.labour_market_region if place else "",
                price_cents=course.price_cents,
                duration_hours=course.duration_hours,
                url=course.url,
                topics=tuple(course.topics),
                skills=tuple(course.skills),
                skill_labels=tuple(skills[u][0] for u in course.skills if u in skills),
                skill_ancestors=frozenset(ancestors),
                is_example=course.is_example,
                start_dates=tuple(o.starts_on for o in course.offerings),
                lat=place.lat if place and course.format != "online" else None,
                lon=place.lon if place and course.format != "online" else None,
            )
        )
    return records


@dataclass
class _Cached:
    revision: int
    today: date
    index: CourseIndex


_CACHE: dict[str, _Cached] = {}
# Builds under way: turns that ask for the same index at once wait for the one build
# (otherwise every concurrent course search built its own, ~40 MiB each).
_BUILDING: dict[tuple[str, int, date], asyncio.Future[CourseIndex]] = {}


async def course_index(session: AsyncSession, today: date) -> CourseIndex:
    """The search index of the session's database, rebuilt when the catalogue changed."""
    key = str(session.bind.engine.url) if session.bind else ""
    revision = await current_revision(session)
    cached = _CACHE.get(key)
    if cached and cached.revision == revision and cached.today == today:
        return cached.index
    loop = asyncio.get_running_loop()
    building = (key, revision, today)
    pending = _BUILDING.get(building)
    if pending is not None and pending.get_loop() is loop:
        with contextlib.suppress(asyncio.CancelledError):
            return await asyncio.shield(pending)
        if not pending.cancelled():
            raise asyncio.CancelledError  # this turn itself was cancelled
    future: asyncio.Future[CourseIndex] = loop.create_future()
    _BUILDING[building] = future
    try:
        records = await load_records(session)
        index = await asyncio.to_thread(CourseIndex, records, today)
    except BaseException:
        future.cancel()  # the waiting turns build it themselves
        raise
    finally:
        if _BUILDING.get(building) is future:
            del _BUILDING[building]
    _CACHE[key] = _Cached(revision, today, index)
    future.set_result(index)
    logger.info("course index rebuilt: %d courses", len(records))
    return index


async def search_courses(
    session: AsyncSession, query: SearchQuery, *, today: date, offset: int = 0, limit: int = 10
) -> SearchResult:
    index = await course_index(session, today)
    return index.search(query, offset=offset, limit=limit)
