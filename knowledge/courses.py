"""Courses: validation, storage, atomic import (CSV, JSON, OOAPI) and export.

A provider (an institution `Organisation`) owns its courses by `(provider_id, course_id)`.
The caller owns the transaction; every write bumps the catalogue revision in it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Organisation
from core.text_input import IsoDate, WholeNumber
from knowledge.catalogue import bump_revision
from knowledge.models import Course, CourseOffering, Place, Skill
from knowledge.places import PLACE_KINDS, pick_place, place_key
from knowledge.search import FORMATS, LEVELS
from knowledge.text import fold

PROVINCES = (
    "Groningen",
    "Friesland",
    "Drenthe",
    "Overijssel",
    "Flevoland",
    "Gelderland",
    "Utrecht",
    "Noord-Holland",
    "Zuid-Holland",
    "Zeeland",
    "Noord-Brabant",
    "Limburg",
)
_PROVINCE_BY_FOLD = {fold(p): p for p in PROVINCES} | {
    "fryslan": "Friesland",
    "brabant": "Noord-Brabant",
}
COURSE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
LIST_FIELDS = ("topics", "skills", "start_dates")
ImportFormat = Literal["csv", "json", "ooapi"]


class CourseIn(BaseModel):
    """A course as an institution sends it (PUT body, a JSON object or a CSV row)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=5000)
    level: str | None = None
    nlqf: WholeNumber | None = Field(default=None, ge=1, le=8)
    format: str | None = None
    location: str = Field(default="", max_length=100)
    region: str = Field(default="", max_length=40)
    price_cents: WholeNumber | None = Field(default=None, ge=0, le=100_000_000)
    duration_hours: float | None = Field(default=None, gt=0, le=20_000)
    url: AnyHttpUrl | None = None
    topics: list[str] = Field(default_factory=list, max_length=30)
    skills: list[str] = Field(default_factory=list, max_length=30)
    start_dates: list[IsoDate] = Field(default_factory=list, max_length=100)

    @field_validator("level")
    @classmethod
    def _level(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        normalised = value.lower().replace(" ", "-")
        if normalised not in LEVELS:
            raise ValueError(f"must be one of {', '.join(LEVELS)}")
        return normalised

    @field_validator("format")
    @classmethod
    def _format(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if value.lower() not in FORMATS:
            raise ValueError(f"must be one of {', '.join(FORMATS)}")
        return value.lower()

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not value:
            return ""
        try:
            return _PROVINCE_BY_FOLD[fold(value)]
        except KeyError:
            raise ValueError(f"must be a Dutch province: {', '.join(PROVINCES)}") from None

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: AnyHttpUrl | None) -> AnyHttpUrl | None:
        if value is not None and value.scheme not in ("http", "https"):
            raise ValueError("must be an http or https URL")
        return value

    @field_validator("topics", "skills")
    @classmethod
    def _clean_list(cls, values: list[str]) -> list[str]:
        cleaned = [v.strip() for v in values if v and v.strip()]
        if any(len(v) > 200 for v in cleaned):
            raise ValueError("each item is at most 200 characters")
        return list(dict.fromkeys(cleaned))

    @field_validator("start_dates")
    @classmethod
    def _sorted_dates(cls, values: list[date]) -> list[date]:
        return sorted(set(values))

    @model_validator(mode="after")
    def _place_for_classroom(self) -> CourseIn:
        if self.format in ("klassikaal", "blended") and not self.location:
            raise ValueError("a klassikaal or blended course needs a location")
        return self


class CourseOut(CourseIn):
    course_id: str
    provider_id: int
    provider: str
    is_example: bool
    updated_at: str


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "reason": self.reason}


class CourseDataError(ValueError):
    """Course data that cannot be stored; `errors` says where and why (row 0 = a single course)."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        super().__init__(f"{len(errors)} problem(s) in the course data")
        self.errors = list(errors)


@dataclass(frozen=True)
class ImportReport:
    created: int
    updated: int

    @property
    def total(self) -> int:
        return self.created + self.updated


# ------------------------------------------------------------------ reference data


@dataclass
class _Reference:
    """Skills and places to resolve labels and fill in the region."""

    skill_by_uri: dict[str, str]
    skill_by_label: dict[str, str]
    places: dict[str, list[Place]]  # by place_key, largest first

    @classmethod
    async def load(cls, session: AsyncSession) -> _Reference:
        skills = (await session.execute(select(Skill.uri, Skill.label, Skill.level))).all()
        by_label: dict[str, str] = {}
        for uri, label, _level in sorted(skills, key=lambda s: (s[2], s[0])):
            by_label.setdefault(fold(label), uri)  # the broadest group wins a shared label
        places: dict[str, list[Place]] = {}
        rows = await session.scalars(select(Place).where(Place.kind.in_(PLACE_KINDS)))
        for p in sorted(rows.all(), key=lambda p: (p.kind != "place", -p.population, p.id)):
            places.setdefault(p.key, []).append(p)
        return cls({uri: label for uri, label, _ in skills}, by_label, places)

    def resolve(self, row: int, course: CourseIn) -> tuple[CourseIn, list[RowError]]:
        errors: list[RowError] = []
        skills: list[str] = []
        for skill in course.skills:
            if skill in self.skill_by_uri:
                skills.append(skill)
            elif (uri := self.skill_by_label.get(fold(skill))) is not None:
                skills.append(uri)
            else:
                errors.append(RowError(row, "skills", f"unknown ESCO skill group: {skill}"))
        update: dict[str, Any] = {"skills": list(dict.fromkeys(skills))}
        named = self.places.get(place_key(course.location), []) if course.location else []
        place = pick_place(named, course.region or None)
        if place is not None:
            update["location"] = place.name
            if not course.region:
                update["region"] = place.province
            elif course.region != place.province:
                errors.append(
                    RowError(
                        row, "region", f"{place.name} is in {place.province}, not {course.region}"
                    )
                )
        return course.model_copy(update=update), errors


def _validate(
    row: int, data: Mapping[str, Any], reference: _Reference
) -> tuple[str | None, CourseIn | None, list[RowError]]:
    errors: list[RowError] = []
    body = dict(data)
    course_id = body.pop("course_id", None)
    if "_extra_cells" in body:
        body.pop("_extra_cells")
        errors.append(RowError(row, "row", "more cells than there are columns"))
    if "_not_an_object" in body:
        return None, None, [RowError(row, "row", "a course must be a JSON object")]
    if row > 0:  # in an import, each record names its course
        if not isinstance(course_id, str) or not course_id.strip():
            errors.append(RowError(row, "course_id", "required"))
            course_id = None
        else:
            course_id = course_id.strip()
            if not re.match(COURSE_ID_PATTERN, course_id):
                errors.append(RowError(row, "course_id", "use letters, digits, '.', '_' or '-'"))
    try:
        course = CourseIn.model_validate(body)
    except ValidationError as exc:
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ())]
            field = loc[0] if loc else "course"
            reason = err.get("msg", "invalid").removeprefix("Value error, ")
            if err.get("type") == "extra_forbidden":
                reason = "unknown field"
            errors.append(RowError(row, field, reason))
        skills = body.get("skills")
        if isinstance(skills, list):  # report these too, not only after the rest is fixed
            errors += [
                RowError(row, "skills", f"unknown ESCO skill group: {skill}")
                for skill in skills
                if isinstance(skill, str)
                and skill not in reference.skill_by_uri
                and fold(skill) not in reference.skill_by_label
            ]
        return course_id, None, errors
    course, problems = reference.resolve(row, course)
    return course_id, course, errors + problems


# ------------------------------------------------------------------ parsing


def parse_csv(payload: bytes) -> list[dict[str, Any]]:
    """CSV rows as course dicts: empty cells are left out, lists are split on ';'."""
    text = payload.decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    rows: list[dict[str, Any]] = []
    for raw in reader:
        row: dict[str, Any] = {}
        for key, value in raw.items():
            if key is None:  # more cells than header columns
                row["_extra_cells"] = value
                continue
            key = key.strip()
            if value is None or value.strip() == "":
                continue
            if key in LIST_FIELDS:
                row[key] = [part.strip() for part in value.split(";") if part.strip()]
            else:
                row[key] = value.strip()
        rows.append(row)
    return rows


def parse_json(payload: bytes) -> list[dict[str, Any]]:
    data = json.loads(payload.decode("utf-8"))
    if isinstance(data, dict) and isinstance(data.get("courses"), list):
        data = data["courses"]
    if not isinstance(data, list):
        raise CourseDataError([RowError(0, "body", "expected a list of courses")])
    return [item if isinstance(item, dict) else {"_not_an_object": item} for item in data]


_OOAPI_LEVELS = {
    "secondary_vocational_education_1": ("mbo-1", 1),
    "secondary_vocational_education_2": ("mbo-2", 2),
    "secondary_vocational_education_3": ("mbo-3", 3),
    "secondary_vocational_education_4": ("mbo-4", 4),
    "associate_degree": ("hbo", 5),
    "bachelor": ("hbo", 6),
    "master": ("wo", 7),
    "doctoral": ("wo", 8),
}
_OOAPI_HOURS_PER_UNIT = {"hour": 1, "contact_time": 1, "sbu": 1, "ects": 28, "sp": 28}


def _dutch(strings: Any) -> str:
    """The Dutch value of an OOAPI language-typed string list (or the first one)."""
    if not isinstance(strings, list) or not strings:
        return ""
    items = [s for s in strings if isinstance(s, dict) and isinstance(s.get("value"), str)]
    for item in items:
        if str(item.get("language", "")).lower().startswith("nl"):
            return str(item["value"])
    return str(items[0]["value"]) if items else ""


def _ooapi_cents(amount: Any) -> int | None:
    try:
        return int(Decimal(str(amount)) * 100)
    except (InvalidOperation, ValueError):
        return None


def parse_ooapi(payload: bytes) -> list[dict[str, Any]]:
    """Map an OOAPI v6 page of courses (`items`) to course dicts in Leerloop's fields."""
    page = json.loads(payload.decode("utf-8"))
    if not isinstance(page, dict) or not isinstance(page.get("items"), list):
        raise CourseDataError([RowError(0, "items", "an OOAPI page needs an items list")])
    rows: list[dict[str, Any]] = []
    for item in page["items"]:
        if not isinstance(item, dict):
            rows.append({"_not_an_object": item})
            continue
        row: dict[str, Any] = {}
        code = item.get("primaryCode")
        course_id = item.get("courseId") or (code.get("code") if isinstance(code, dict) else None)
        if course_id is not None:
            row["course_id"] = str(course_id)
        if title := _dutch(item.get("name")):
            row["title"] = title
        if description := _dutch(item.get("description")):
            row["description"] = description
        levels = item.get("level")
        level = levels[0] if isinstance(levels, list) and levels else levels
        if isinstance(level, str):
            mapped = _OOAPI_LEVELS.get(level)
            row["level"], nlqf = mapped if mapped else ("overig", None)
            if nlqf is not None:
                row["nlqf"] = nlqf
        modes = set(item.get("modesOfDelivery") or [])
        if ("online" in modes and modes & {"presential", "blended", "hybrid"}) or modes & {
            "blended",
            "hybrid",
        }:
            row["format"] = "blended"
        elif "online" in modes:
            row["format"] = "online"
        elif modes:
            row["format"] = "klassikaal"
        load = item.get("studyLoad")
        if isinstance(load, dict) and load.get("studyLoadUnit") in _OOAPI_HOURS_PER_UNIT:
            try:
                row["duration_hours"] = (
                    float(load["value"]) * _OOAPI_HOURS_PER_UNIT[load["studyLoadUnit"]]
                )
            except (TypeError, ValueError):
                row["duration_hours"] = load.get("value")
        if isinstance(item.get("link"), str):
            row["url"] = item["link"]
        addresses = item.get("addresses") or []
        offerings = [o for o in item.get("offerings") or [] if isinstance(o, dict)]
        for offering in offerings:
            addresses = addresses or offering.get("addresses") or []
        cities = [a.get("city") for a in addresses if isinstance(a, dict) and a.get("city")]
        if cities:
            row["location"] = cities[0]
        starts = [item.get("firstStartDate")] + [o.get("startDateTime") for o in offerings]
        row["start_dates"] = sorted({s[:10] for s in starts if isinstance(s, str) and s})
        prices = [
            _ooapi_cents(cost.get("amount"))
            for o in offerings
            for cost in o.get("priceInformation") or []
            if isinstance(cost, dict)
        ]
        if known := [p for p in prices if p is not None]:
            row["price_cents"] = min(known)
        if isinstance(item.get("fieldsOfStudy"), str):
            row["skills"] = [f"http://data.europa.eu/esco/isced-f/{item['fieldsOfStudy'][:4]}"]
        rows.append(row)
    return rows


def parse(payload: bytes, fmt: ImportFormat) -> list[dict[str, Any]]:
    try:
        if fmt == "csv":
            return parse_csv(payload)
        if fmt == "json":
            return parse_json(payload)
        return parse_ooapi(payload)
    except UnicodeDecodeError:
        raise CourseDataError([RowError(0, "body", "the file is not UTF-8 text")]) from None
    except json.JSONDecodeError as exc:
        raise CourseDataError(
            [RowError(0, "body", f"not valid JSON (line {exc.lineno}, column {exc.colno})")]
        ) from None
    except csv.Error as exc:
        raise CourseDataError([RowError(0, "body", f"not valid CSV: {exc}")]) from None


# ------------------------------------------------------------------ storage


async def _find(session: AsyncSession, provider_id: int, course_id: str) -> Course | None:
    course: Course | None = await session.scalar(
        select(Course).where(Course.provider_id == provider_id, Course.course_id == course_id)
    )
    return course


def _apply(course: Course, data: CourseIn) -> None:
    course.title = data.title
    course.description = data.description
    course.level = data.level
    course.nlqf = data.nlqf
    course.format = data.format
    course.location = data.location
    course.region = data.region
    course.price_cents = data.price_cents
    course.duration_hours = data.duration_hours
    course.url = str(data.url) if data.url is not None else None
    course.topics = list(data.topics)
    course.skills = list(data.skills)
    existing = {o.starts_on: o for o in course.offerings}
    course.offerings = [existing.get(d) or CourseOffering(starts_on=d) for d in data.start_dates]


async def _store(
    session: AsyncSession,
    provider: Organisation,
    course_id: str,
    data: CourseIn,
    *,
    source: str,
    is_example: bool,
) -> tuple[Course, bool]:
    """Create or replace; the course, and True when it is new."""
    course = await _find(session, provider.id, course_id)
    created = course is None
    if course is None:
        course = Course(provider_id=provider.id, course_id=course_id, offerings=[])
        session.add(course)
    _apply(course, data)
    course.source = source
    course.is_example = is_example
    return course, created


async def put_course(
    *,
    session: AsyncSession,
    provider: Organisation,
    course_id: str,
    data: Mapping[str, Any],
    source: str = "api",
) -> tuple[Course, bool]:
    """Validate and store one course; returns it and whether it was created."""
    reference = await _Reference.load(session)
    _, course_in, errors = _validate(0, data, reference)
    if errors or course_in is None:
        raise CourseDataError(errors)
    course, created = await _store(
        session, provider, course_id, course_in, source=source, is_example=False
    )
    await bump_revision(session)
    await session.flush()
    return course, created


async def import_courses(
    *,
    session: AsyncSession,
    provider: Organisation,
    rows: Sequence[Mapping[str, Any]],
    source: str,
    is_example: bool = False,
) -> ImportReport:
    """Validate every row first; store all of them, or none when any row is wrong."""
    valid = await validate_courses(session, rows)
    created = 0
    for course_id, course_in in valid:
        _, new = await _store(
            session, provider, course_id, course_in, source=source, is_example=is_example
        )
        created += new
    await bump_revision(session)
    await session.flush()
    return ImportReport(created=created, updated=len(valid) - created)


async def validate_courses(
    session: AsyncSession, rows: Sequence[Mapping[str, Any]]
) -> list[tuple[str, CourseIn]]:
    """Check every row of an import without storing anything: the courses as they would be
    stored, or CourseDataError with every problem (row, field, reason)."""
    if not rows:
        raise CourseDataError([RowError(0, "body", "the file holds no courses")])
    reference = await _Reference.load(session)
    errors: list[RowError] = []
    valid: list[tuple[str, CourseIn]] = []
    seen: dict[str, int] = {}
    for number, data in enumerate(rows, start=1):
        course_id, course_in, problems = _validate(number, data, reference)
        errors += problems
        if course_id is not None:
            if course_id in seen:
                errors.append(
                    RowError(number, "course_id", f"{course_id} is also in row {seen[course_id]}")
                )
            seen.setdefault(course_id, number)
        if course_in is not None and course_id is not None and not problems:
            valid.append((course_id, course_in))
    if errors:
        raise CourseDataError(errors)
    return valid


async def get_course(*, session: AsyncSession, provider_id: int, course_id: str) -> Course | None:
    return await _find(session, provider_id, course_id)


async def delete_course(*, session: AsyncSession, provider_id: int, course_id: str) -> bool:
    course = await _find(session, provider_id, course_id)
    if course is None:
        return False
    await session.delete(course)
    await bump_revision(session)
    return True


async def courses_by_pk(session: AsyncSession, pks: Sequence[int]) -> dict[int, Course]:
    """Courses with these primary keys, in one query."""
    rows = await session.scalars(select(Course).where(Course.id.in_(pks)))
    return {course.id: course for course in rows.all()}


async def list_courses(
    session: AsyncSession, provider_id: int | None = None
) -> list[tuple[Course, str]]:
    """Every course (of one provider, or all) with its provider's name, in a stable order."""
    stmt = (
        select(Course, Organisation.name)
        .join(Organisation, Organisation.id == Course.provider_id)
        .order_by(Course.provider_id, Course.course_id)
    )
    if provider_id is not None:
        stmt = stmt.where(Course.provider_id == provider_id)
    return [(course, name) for course, name in (await session.execute(stmt)).all()]


def course_out(course: Course, provider_name: str) -> CourseOut:
    return CourseOut(
        course_id=course.course_id,
        provider_id=course.provider_id,
        provider=provider_name,
        title=course.title,
        description=course.description,
        level=course.level,
        nlqf=course.nlqf,
        format=course.format,
        location=course.location,
        region=course.region,
        price_cents=course.price_cents,
        duration_hours=course.duration_hours,
        url=AnyHttpUrl(course.url) if course.url else None,
        topics=list(course.topics),
        skills=list(course.skills),
        start_dates=[o.starts_on for o in course.offerings],
        is_example=course.is_example,
        updated_at=course.updated_at.isoformat(),
    )


def export_rows(courses: Iterable[CourseOut]) -> list[dict[str, Any]]:
    """Courses as JSON-import dicts (re-importable with `kb import`)."""
    rows = []
    for course in courses:
        data = course.model_dump(
            mode="json", exclude={"provider_id", "provider", "is_example", "updated_at"}
        )
        rows.append({k: v for k, v in data.items() if v not in (None, "", [])})
    return rows
