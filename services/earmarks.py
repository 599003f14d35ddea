"""Earmarks with a defined meaning, checked when money is credited.

An employer or fund may earmark money for courses with certain topics (as the catalogue names
them), certain ESCO skills (URIs or their Dutch labels; a skill group covers the skills under
it) or certain course ids. Anything else has no meaning a booking could honour, so it is
refused at credit time with the exact field and reason, instead of leaving money that can
never be spent. A plain string is short for one topic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge import CourseRecord
from knowledge.models import Course, Skill
from knowledge.text import fold
from services.ledger import Earmark

LABEL_LENGTH = 200


@dataclass(frozen=True)
class EarmarkProblem:
    field: str
    reason: str


class EarmarkError(ValueError):
    """An earmark without a defined meaning; `problems` says which part and why."""

    def __init__(self, problems: Sequence[EarmarkProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.reason}" for p in problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class EarmarkSpec:
    """An earmark as an API client or a fund writes it, before it is checked."""

    topics: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    course_ids: tuple[str, ...] = ()
    label: str = ""


async def resolve_earmark(
    session: AsyncSession, raw: EarmarkSpec | Earmark | str | None
) -> Earmark | None:
    """The checked earmark (topics lower case, skills as URIs), or EarmarkError."""
    if raw is None:
        return None
    if isinstance(raw, str):
        if not raw.strip():
            return None
        spec = EarmarkSpec(topics=(raw,), label=raw.strip())
        field_of = {"topics": "earmark"}
    else:
        spec = EarmarkSpec(raw.topics, raw.skills, raw.course_ids, raw.label)
        field_of = {}
    problems: list[EarmarkProblem] = []
    if not (spec.topics or spec.skills or spec.course_ids):
        raise EarmarkError(
            [EarmarkProblem("earmark", "name at least one of topics, skills or course_ids")]
        )
    # Read from the catalogue itself (a credit is rare; the search index is the chat's).
    catalogue = (await session.execute(select(Course.topics, Course.course_id))).all()
    known_topics = {fold(t): t.casefold() for topics, _ in catalogue for t in topics}
    known_ids = {str(course_id) for _, course_id in catalogue}

    topics: list[str] = []
    for n, topic in enumerate(spec.topics):
        found = known_topics.get(fold(topic.strip()))
        if found is None:
            where = field_of.get("topics", f"earmark.topics[{n}]")
            problems.append(
                EarmarkProblem(where, f"no course in the catalogue has the topic {topic!r}")
            )
        elif found not in topics:
            topics.append(found)

    skills: list[str] = []
    label_of: dict[str, str] = {}
    if spec.skills:
        rows = (await session.execute(select(Skill.uri, Skill.label))).all()
        label_of = {str(uri): str(label) for uri, label in rows}
        by_label: dict[str, list[str]] = {}
        for uri, label in label_of.items():  # one label can name a group and a narrower skill
            by_label.setdefault(fold(label), []).append(uri)
        for n, skill in enumerate(spec.skills):
            wanted = skill.strip()
            uris = [wanted] if wanted in label_of else by_label.get(fold(wanted), [])
            if not uris:
                problems.append(
                    EarmarkProblem(f"earmark.skills[{n}]", f"not an ESCO skill: {skill!r}")
                )
            skills.extend(u for u in uris if u not in skills)

    course_ids: list[str] = []
    for n, course_id in enumerate(spec.course_ids):
        if course_id not in known_ids:
            problems.append(
                EarmarkProblem(f"earmark.course_ids[{n}]", f"no course has the id {course_id!r}")
            )
        elif course_id not in course_ids:
            course_ids.append(course_id)

    if problems:
        raise EarmarkError(problems)
    skill_labels = list(dict.fromkeys(label_of[uri] for uri in skills))
    label = spec.label.strip() or ", ".join([*topics, *skill_labels, *course_ids])
    return Earmark(tuple(topics), tuple(skills), tuple(course_ids), label[:LABEL_LENGTH])


def covers_course(earmark: Earmark, course: CourseRecord) -> bool:
    """Does this earmark pay for this course?"""
    return earmark.covers(
        topics=course.topics,
        skills=(*course.skills, *course.skill_ancestors),
        course_id=course.course_id,
    )
