"""Every Dutch place: each municipality resolves, towns get their province, "in de buurt"
ranks by distance, and everyday words are not taken for villages."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import OrgKind
from knowledge import Knowledge, SearchQuery, import_courses
from knowledge.models import Course
from services import create_organisation
from tests.knowledge.conftest import TODAY

pytestmark = pytest.mark.db

PLACES = Path(__file__).resolve().parents[2] / "knowledge" / "data" / "places_nl.csv"


def _rows(kind: str) -> list[dict[str, str]]:
    with PLACES.open(encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if r["kind"] == kind]


def test_the_data_covers_the_country() -> None:
    municipalities = _rows("municipality")
    assert len(municipalities) == 342  # the Dutch municipalities of 2025
    assert {r["province"] for r in municipalities} == {
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
    }
    assert len(_rows("place")) > 1900
    for row in municipalities + _rows("place"):
        assert 50.7 < float(row["lat"]) < 53.6 and 3.3 < float(row["lon"]) < 7.3, row
        assert row["labour_market_region"], row


async def test_every_municipality_resolves(sessions: async_sessionmaker[AsyncSession]) -> None:
    knowledge = Knowledge()
    missing = []
    async with sessions() as session:
        for row in _rows("municipality"):
            found = await knowledge.find_location(session, f"ik woon in {row['name']}")
            if (
                found is None
                or found.point is None
                or (found.province != row["province"] and found.name != row["name"])
            ):
                missing.append((row["name"], found))
    assert not missing


@pytest.mark.parametrize(
    ("text", "name", "province"),
    [
        ("cursus lassen in de buurt van Zuidhorn", "Zuidhorn", "Groningen"),
        ("ik woon in Zwijndrecht", "Zwijndrecht", "Zuid-Holland"),
        ("sliedrecht", "Sliedrecht", "Zuid-Holland"),
        ("in de gemeente Westerkwartier", "Westerkwartier", "Groningen"),
        ("iets in Schiermonnikoog", "Schiermonnikoog", "Friesland"),
        ("Hengelo in Gelderland", "Hengelo", "Gelderland"),
        ("Hengelo", "Hengelo", "Overijssel"),  # the larger one, when nothing says otherwise
        ("ik woon in Den Bosch sinds kort", "Den Bosch", "Noord-Brabant"),
        ("een cursus in Best", "Best", "Noord-Brabant"),
    ],
)
async def test_towns_are_found_with_their_province(
    sessions: async_sessionmaker[AsyncSession], text: str, name: str, province: str
) -> None:
    async with sessions() as session:
        found = await Knowledge().find_location(session, text)
    assert found is not None
    assert (found.name, found.province) == (name, province)
    assert found.point is not None and found.region


@pytest.mark.parametrize(
    "text", ["ik zoek een cursus", "het is best leuk", "ik werk in de zorg", "heel goed"]
)
async def test_everyday_words_are_not_villages(
    sessions: async_sessionmaker[AsyncSession], text: str
) -> None:
    async with sessions() as session:
        assert await Knowledge().find_location(session, text) is None


async def test_provinces_and_regions(sessions: async_sessionmaker[AsyncSession]) -> None:
    knowledge = Knowledge()
    async with sessions() as session:
        for text, kind, name in [
            ("iets in Gelderland", "province", "Gelderland"),
            ("in brabant", "province", "Noord-Brabant"),
            ("Fryslân", "province", "Friesland"),
            ("in Zeeland", "region", "Zeeland"),  # not the village Zeeland in Noord-Brabant
            ("regio Twente", "region", "Twente"),
        ]:
            found = await knowledge.find_location(session, text)
            assert found is not None, text
            assert (found.kind, found.name) == (kind, name), text


async def _import(session: AsyncSession, rows: list[dict[str, object]]) -> None:
    org = await create_organisation(session=session, name="ROC Plaatsen", kind=OrgKind.INSTITUTION)
    await import_courses(session=session, provider=org[0], rows=rows, source="test")


def _course(course_id: str, location: str) -> dict[str, object]:
    return {
        "course_id": course_id,
        "title": "Tegelzetten voor beginners",
        "description": "Leer tegels zetten op een vloer en een wand.",
        "format": "klassikaal",
        "location": location,
        "topics": ["tegelzetten"],
        "start_dates": ["2027-01-11"],
    }


async def test_any_town_gets_its_province_and_near_ranks_by_distance(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    knowledge = Knowledge()
    async with sessions() as session, session.begin():
        await _import(
            session,
            [
                _course("t-utrecht", "Utrecht"),
                _course("t-rotterdam", "Rotterdam"),
                _course("t-zwijndrecht", "Zwijndrecht"),
                _course("t-sliedrecht", "Sliedrecht"),
                _course("t-joure", "Joure"),
            ],
        )
        regions = dict(
            (
                await session.execute(
                    select(Course.course_id, Course.region).where(
                        Course.course_id.like("t-%"), Course.title.like("Tegelzetten%")
                    )
                )
            ).all()
        )
        assert regions["t-zwijndrecht"] == regions["t-sliedrecht"] == "Zuid-Holland"
        assert regions["t-joure"] == "Friesland"

        dordrecht = await knowledge.find_location(session, "Dordrecht")
        assert dordrecht is not None and dordrecht.point is not None
        near = await knowledge.search_courses(
            session,
            SearchQuery(text="tegelzetten", near=dordrecht.point, within_km=60),
            today=TODAY,
        )
        assert [h.course.course_id for h in near.hits] == [
            "t-zwijndrecht",  # 3 km
            "t-sliedrecht",  # 10 km
            "t-rotterdam",  # 19 km
            "t-utrecht",  # 50 km
        ]
        friesland = await knowledge.find_location(session, "in Friesland")
        assert friesland is not None
        in_friesland = await knowledge.search_courses(
            session, SearchQuery(text="tegelzetten", region=friesland.name), today=TODAY
        )
        assert [h.course.course_id for h in in_friesland.hits] == ["t-joure"]
