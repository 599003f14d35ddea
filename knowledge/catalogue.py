"""The catalogue as the search sees it: a revision counter and the rows an index is built from.

Every write to courses sets `kb_meta.revision` to a new random number in the writer's transaction
(random, not +1: a rolled-back write followed by another write must not repeat an old value).
A search first reads the revision (one primary-key lookup); when it or the date changed, the
app's `Knowledge` (knowledge/base.py) rebuilds its index from the database. So a course
imported by the CLI in another process shows up in the bot's next search.
"""

from __future__ import annotations

import logging
import secrets

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Organisation
from knowledge.models import Course, KbMeta, Skill
from knowledge.places import pick_place, place_key, places_named
from knowledge.search import CourseRecord

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
    courses = list((await session.scalars(select(Course).order_by(Course.id))).all())
    places = await places_named(session, {c.location for c in courses if c.location})
    providers = dict((await session.execute(select(Organisation.id, Organisation.name))).all())
    records: list[CourseRecord] = []
    for course in courses:
        ancestors: set[str] = set()
        for uri in course.skills:
            current: str | None = uri
            while current and current not in ancestors:
                ancestors.add(current)
                current = skills.get(current, ("", None))[1]
        place = pick_place(places.get(place_key(course.location), []), course.region)
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
