"""Fixtures for the knowledge base: the seeded example catalogue as an in-memory index."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from knowledge.search import CourseIndex, CourseRecord

TODAY = date(2026, 11, 27)
EXAMPLES = Path(__file__).resolve().parents[2] / "knowledge" / "data" / "example_courses.json"


@pytest.fixture(scope="session")
def example_index() -> CourseIndex:
    """The example courses, straight from the seed file (no database), as search sees them."""
    data = json.loads(EXAMPLES.read_text(encoding="utf-8"))
    records: list[CourseRecord] = []
    for provider_id, provider in enumerate(data["providers"], start=1):
        for course in provider["courses"]:
            records.append(
                CourseRecord(
                    pk=len(records) + 1,
                    provider_id=provider_id,
                    provider_name=provider["name"],
                    course_id=course["course_id"],
                    title=course["title"],
                    description=course.get("description", ""),
                    level=course.get("level"),
                    format=course.get("format"),
                    location=course.get("location", ""),
                    region=course.get("region", ""),
                    price_cents=course.get("price_cents"),
                    topics=tuple(course.get("topics", [])),
                    start_dates=tuple(date.fromisoformat(d) for d in course["start_dates"]),
                )
            )
    return CourseIndex(records, TODAY)
