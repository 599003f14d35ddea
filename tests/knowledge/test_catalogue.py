"""Seed, course storage and atomic imports, regulations (on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import Organisation, OrgKind
from knowledge import (
    CourseDataError,
    Knowledge,
    find_regulation,
    get_course,
    import_courses,
    list_regulations,
    open_alternatives,
    parse,
    put_course,
    seed_knowledge,
)
from knowledge.models import Course, Leerwerkloket, Occupation, Place, Skill
from knowledge.regulations import status
from services import create_organisation
from tests.knowledge.conftest import TODAY

pytestmark = pytest.mark.db

SECTOR_TOPICS = {
    "zorg": "care",
    "techniek": "technology",
    "ict": "ICT",
    "logistiek": "logistics",
    "onderwijs": "education",
    "horeca": "hospitality",
    "retail": "retail",
    "financieel": "finance",
    "groen": "green",
}


async def _institution(session: AsyncSession, name: str = "ROC Test") -> Organisation:
    org, _ = await create_organisation(session=session, name=name, kind=OrgKind.INSTITUTION)
    return org


async def test_seed_holds_the_example_catalogue(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        courses = (await session.scalars(select(Course).where(Course.is_example))).all()
        assert len(courses) >= 150
        sectors = {s for c in courses for s in SECTOR_TOPICS if s in c.topics}
        assert sectors == set(SECTOR_TOPICS), "every sector has example courses"
        assert {c.level for c in courses} >= {"mbo-1", "mbo-2", "mbo-3", "mbo-4", "hbo", "wo"}
        assert {c.format for c in courses} == {"online", "klassikaal", "blended"}
        provinces = {c.region for c in courses if c.region}
        assert len(provinces) == 12
        providers = (
            await session.scalars(
                select(Organisation).where(Organisation.id.in_({c.provider_id for c in courses}))
            )
        ).all()
        assert all("(voorbeeld)" in p.name for p in providers)
        assert all(c.skills for c in courses), "skills resolved from labels to ESCO URIs"
        assert await session.scalar(select(func.count()).select_from(Skill)) == 640
        assert await session.scalar(select(func.count()).select_from(Occupation)) == 3039
        assert await session.scalar(select(func.count()).select_from(Leerwerkloket)) == 35
        assert (await session.scalar(select(func.count()).select_from(Place)) or 0) >= 140


async def test_seed_runs_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        report = await seed_knowledge(session)
    assert report.courses == report.regulations == report.skills == 0


async def test_regulations_have_source_date_and_validity(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        regulations = await list_regulations(session)
        assert len(regulations) >= 10
        for regulation in regulations:
            assert regulation.source_url.startswith("https://")
            assert regulation.checked_on == date(2026, 12, 1)
        stap = await find_regulation(session, "STAP")
        assert stap is not None
        assert stap.valid_until == date(2023, 12, 31)
        assert status(stap, TODAY) == "ended"
        assert not stap.is_open(TODAY)
        open_now = {r.slug for r in await open_alternatives(session, stap, TODAY)}
        assert "levenlanglerenkrediet" in open_now
        assert "stap-budget" not in open_now


@pytest.mark.parametrize(
    ("typed", "slug"),
    [
        ("stapbudget", "stap-budget"),
        ("Stap-Budget", "stap-budget"),
        ("levenslang leren krediet", "levenlanglerenkrediet"),
        ("LLK", "levenlanglerenkrediet"),
        ("O&O fonds", "o-en-o-fonds"),
        ("slim regeling", "slim-regeling"),
        ("werkkostenregling", "scholing-werkkostenregeling"),
        ("werkcentrum", "werkcentrum"),
        ("leerrekening", "leerrekening"),
        ("Wij Techniek", "wij-techniek"),
    ],
)
async def test_find_regulation_by_name_and_misspelling(
    sessions: async_sessionmaker[AsyncSession], typed: str, slug: str
) -> None:
    async with sessions() as session:
        found = await find_regulation(session, typed)
        assert found is not None
        assert found.slug == slug
        assert await find_regulation(session, "pannenkoeken") is None


async def test_places_regions_and_loketten(sessions: async_sessionmaker[AsyncSession]) -> None:
    knowledge = Knowledge()
    async with sessions() as session:
        place = await knowledge.find_location(session, "ik woon in Den Bosch sinds kort")
        assert place is not None
        assert (place.kind, place.region, place.province) == (
            "place",
            "Noordoost-Brabant",
            "Noord-Brabant",
        )
        region = await knowledge.find_location(session, "regio Twente")
        assert region is not None
        assert region.kind == "region"
        loket = await knowledge.loket_for(session, region)
        assert loket is not None
        assert loket.name == "Leerwerkloket Twente"
        province = await knowledge.find_location(session, "Gelderland")
        assert province is not None
        assert province.kind == "province"
        assert await knowledge.loket_for(session, province) is None


CSV = (
    "course_id,title,level,format,location,price_cents,duration_hours,url,topics,skills,start_dates\n"
    "c1,Excel gevorderd,mbo-4,klassikaal,Zwolle,34900,16,https://roc.example/c1,"
    "excel;kantoor,werken met computers,2027-02-01;2027-09-01\n"
    "c2,Heftruck,mbo-2,online,,19900,8,,logistiek,,\n"
)


async def test_csv_import_creates_and_then_updates(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        org = await _institution(session)
        report = await import_courses(
            session=session, provider=org, rows=parse(CSV.encode(), "csv"), source="test"
        )
        assert (report.created, report.updated) == (2, 0)
        again = await import_courses(
            session=session, provider=org, rows=parse(CSV.encode(), "csv"), source="test"
        )
        assert (again.created, again.updated) == (0, 2)
        course = await get_course(session=session, provider_id=org.id, course_id="c1")
        assert course is not None
        assert course.region == "Overijssel", "the province comes from the place"
        assert [o.starts_on for o in course.offerings] == [date(2027, 2, 1), date(2027, 9, 1)]
        assert course.skills == [
            "http://data.europa.eu/esco/skill/243eb885-07c7-4b77-ab9c-827551d83dc4"
        ]
        assert course.topics == ["excel", "kantoor"]


async def test_an_import_with_bad_rows_changes_nothing_and_names_every_problem(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    rows: list[dict[str, object]] = [
        {"course_id": "ok-1", "title": "Goed"},
        {"course_id": "bad-1", "title": "", "price_cents": -5},
        {"course_id": "bad-2", "title": "X", "format": "per duif", "colour": "blue"},
        {"course_id": "ok-1", "title": "Dubbel"},
        {"course_id": "bad-3", "title": "Y", "skills": ["toveren"], "level": "mbo-9"},
        {"course_id": "bad-4", "title": "Z", "location": "Zwolle", "region": "Limburg"},
    ]
    async with sessions() as session, session.begin():
        org = await _institution(session)
        with pytest.raises(CourseDataError) as caught:
            await import_courses(session=session, provider=org, rows=rows, source="test")
        problems = Counter((e.row, e.field) for e in caught.value.errors)
        assert problems == Counter(
            {
                (2, "title"): 1,
                (2, "price_cents"): 1,
                (3, "format"): 1,
                (3, "colour"): 1,
                (4, "course_id"): 1,
                (5, "level"): 1,
                (5, "skills"): 1,
                (6, "region"): 1,
            }
        )
        count = await session.scalar(
            select(func.count()).select_from(Course).where(Course.provider_id == org.id)
        )
        assert count == 0


async def test_skill_labels_that_do_not_exist_are_reported(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        org = await _institution(session)
        with pytest.raises(CourseDataError) as caught:
            await put_course(
                session=session,
                provider=org,
                course_id="x",
                data={"title": "X", "skills": ["toveren"]},
            )
        assert [(e.field, e.reason) for e in caught.value.errors] == [
            ("skills", "unknown ESCO skill group: toveren")
        ]


OOAPI_PAGE = {
    "pageSize": 2,
    "pageNumber": 1,
    "hasPreviousPage": False,
    "hasNextPage": False,
    "items": [
        {
            "courseId": "123e4567-e89b-12d3-a456-426614174000",
            "primaryCode": {"codeType": "identifier", "code": "ZORG-101"},
            "name": [
                {"language": "en-GB", "value": "Dementia care"},
                {"language": "nl-NL", "value": "Zorg bij dementie"},
            ],
            "description": [{"language": "nl-NL", "value": "Leer omgaan met dementie."}],
            "level": "secondary_vocational_education_3",
            "modesOfDelivery": ["presential"],
            "studyLoad": {"studyLoadUnit": "ects", "value": 2},
            "firstStartDate": "2027-03-01T09:00:00+01:00",
            "link": "https://hogeschool.example/zorg-101",
            "addresses": [{"addressType": "teaching", "city": "Arnhem"}],
            "fieldsOfStudy": "0913",
            "offerings": [
                {
                    "startDateTime": "2027-09-06T09:00:00+02:00",
                    "priceInformation": [{"costType": "total costs", "amount": "395.00"}],
                }
            ],
        },
        {
            "courseId": "223e4567-e89b-12d3-a456-426614174000",
            "primaryCode": {"codeType": "identifier", "code": "ICT-7"},
            "name": [{"language": "nl-NL", "value": "Cloud basis"}],
            "level": "bachelor",
            "modesOfDelivery": ["online", "presential"],
            "studyLoad": {"studyLoadUnit": "hour", "value": 40},
            "addresses": [{"addressType": "teaching", "city": "Utrecht"}],
        },
    ],
}


async def test_ooapi_page_import(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        org = await _institution(session)
        rows = parse(json.dumps(OOAPI_PAGE).encode(), "ooapi")
        report = await import_courses(session=session, provider=org, rows=rows, source="ooapi")
        assert report.created == 2
        course = await get_course(
            session=session, provider_id=org.id, course_id="123e4567-e89b-12d3-a456-426614174000"
        )
        assert course is not None
        assert (course.title, course.level, course.nlqf, course.format) == (
            "Zorg bij dementie",
            "mbo-3",
            3,
            "klassikaal",
        )
        assert (course.location, course.region, course.duration_hours) == (
            "Arnhem",
            "Gelderland",
            56.0,
        )
        assert course.price_cents == 39500
        assert [o.starts_on for o in course.offerings] == [date(2027, 3, 1), date(2027, 9, 6)]
        assert course.skills == ["http://data.europa.eu/esco/isced-f/0913"]
        cloud = await get_course(
            session=session, provider_id=org.id, course_id="223e4567-e89b-12d3-a456-426614174000"
        )
        assert cloud is not None
        assert (cloud.level, cloud.nlqf, cloud.format) == ("hbo", 6, "blended")
