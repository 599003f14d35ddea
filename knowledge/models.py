"""Tables of the knowledge base: courses and their start dates, the ESCO taxonomy, regulations,
places and the regional Leerwerkloketten.

Nothing here is personal data. Courses belong to an institution (an `Organisation`); every write
to the catalogue bumps `kb_meta.revision` in the same transaction, so search indexes in any
process notice the change.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime, utcnow


class Course(Base):
    """A course of one provider. `course_id` is the provider's own id, unique per provider."""

    __tablename__ = "courses"
    __table_args__ = (UniqueConstraint("provider_id", "course_id", name="uq_courses_provider_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    course_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    level: Mapped[str | None] = mapped_column(String(16), default=None)
    nlqf: Mapped[int | None] = mapped_column(Integer, default=None)
    format: Mapped[str | None] = mapped_column(String(16), default=None)
    location: Mapped[str] = mapped_column(String(100), default="")
    region: Mapped[str] = mapped_column(String(40), default="")
    price_cents: Mapped[int | None] = mapped_column(Integer, default=None)
    duration_hours: Mapped[float | None] = mapped_column(Float, default=None)
    url: Mapped[str | None] = mapped_column(String(500), default=None)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_example: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(40), default="api")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    offerings: Mapped[list[CourseOffering]] = relationship(
        back_populates="course",
        cascade="all, delete-orphan",
        order_by="CourseOffering.starts_on",
        lazy="selectin",
    )


class CourseOffering(Base):
    """One start date of a course."""

    __tablename__ = "course_offerings"
    __table_args__ = (UniqueConstraint("course_pk", "starts_on", name="uq_offering_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_pk: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)

    course: Mapped[Course] = relationship(back_populates="offerings")


class Skill(Base):
    """An ESCO skill group (levels 0–3 of the skills hierarchy)."""

    __tablename__ = "skills"

    uri: Mapped[str] = mapped_column(String(200), primary_key=True)
    code: Mapped[str] = mapped_column(String(16), index=True)
    label: Mapped[str] = mapped_column(String(300))
    level: Mapped[int] = mapped_column(Integer)
    parent_uri: Mapped[str | None] = mapped_column(String(200), default=None)
    description: Mapped[str] = mapped_column(Text, default="")


class IscoGroup(Base):
    """An ISCO-08 occupation group (1 to 4 digits), with its Dutch label."""

    __tablename__ = "isco_groups"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    label: Mapped[str] = mapped_column(String(300))


class Occupation(Base):
    """An ESCO occupation with its Dutch labels and ISCO group."""

    __tablename__ = "occupations"

    uri: Mapped[str] = mapped_column(String(200), primary_key=True)
    label: Mapped[str] = mapped_column(String(300), index=True)
    alt_labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    isco_code: Mapped[str] = mapped_column(String(8), index=True)
    description: Mapped[str] = mapped_column(Text, default="")


class Regulation(Base):
    """A scheme that can pay for learning (subsidy, loan, tax rule, fund), with its source."""

    __tablename__ = "regulations"

    slug: Mapped[str] = mapped_column(String(80), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2), default="NL")
    kind: Mapped[str] = mapped_column(String(20))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    summary: Mapped[str] = mapped_column(Text)
    who: Mapped[str] = mapped_column(Text, default="")
    amounts: Mapped[str] = mapped_column(Text, default="")
    conditions: Mapped[str] = mapped_column(Text, default="")
    how_to_apply: Mapped[str] = mapped_column(Text, default="")
    valid_from: Mapped[date | None] = mapped_column(Date, default=None)
    valid_until: Mapped[date | None] = mapped_column(Date, default=None)
    replaced_by: Mapped[list[str]] = mapped_column(JSON, default=list)
    source_name: Mapped[str] = mapped_column(String(300))
    source_url: Mapped[str] = mapped_column(String(500))
    checked_on: Mapped[date] = mapped_column(Date)
    review_by: Mapped[date | None] = mapped_column(Date, default=None)
    # Structured facts, each with its own source, checked date and review date (see
    # knowledge.regulations.RegulationFact): what the bot answers a specific question with.
    facts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    min_age: Mapped[int | None] = mapped_column(Integer, default=None)  # at least this old
    max_age: Mapped[int | None] = mapped_column(Integer, default=None)  # younger than this
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    def is_open(self, today: date) -> bool:
        """Open today: started (or no start known) and not ended."""
        started = self.valid_from is None or self.valid_from <= today
        return started and (self.valid_until is None or today <= self.valid_until)


class Place(Base):
    """A name a user may give for where they are: a residence (woonplaats), a municipality
    (gemeente), a labour-market region or a province, looked up by its folded `key`."""

    __tablename__ = "places"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # place, municipality, region, province
    municipality: Mapped[str] = mapped_column(String(100), default="")
    province: Mapped[str] = mapped_column(String(40), default="")
    labour_market_region: Mapped[str] = mapped_column(String(80), default="", index=True)
    lat: Mapped[float | None] = mapped_column(Float, default=None)
    lon: Mapped[float | None] = mapped_column(Float, default=None)
    population: Mapped[int] = mapped_column(Integer, default=0)
    # An everyday word too ("Best", "Een"): counts only after "in", "bij", ... or on its own.
    needs_cue: Mapped[bool] = mapped_column(Boolean, default=False)


class Leerwerkloket(Base):
    """The Leerwerkloket of one labour-market region (35 in all)."""

    __tablename__ = "leerwerkloketten"

    region: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    main_place: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(300))


class KbMeta(Base):
    """Small key/value facts about the knowledge base: catalogue revision, seed version."""

    __tablename__ = "kb_meta"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)
