"""Search: lemmas, typos, synonyms, compounds, filters, distance, quality, and DB parity."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import create_engine, session_factory
from knowledge import Knowledge
from knowledge.evaluation import evaluate, load_queries
from knowledge.search import CourseIndex, CourseRecord, SearchQuery
from tests.knowledge.conftest import TODAY
from tests.support.databases import migrated_postgres, migrated_sqlite, postgres_url

QUERIES = Path(__file__).with_name("search_queries.yml")


def _titles(index: CourseIndex, query: SearchQuery, limit: int = 5) -> list[str]:
    return [h.course.title for h in index.search(query, limit=limit).hits]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Excel", "Excel voor op het werk"),
        ("exel", "Excel voor op het werk"),  # a typo
        ("heftruk", "Heftruckcertificaat"),  # a typo in a compound
        ("cursussen boekhouden", "Boekhouden basis (MBA)"),  # plural of a generic word
        ("zonnepaneel", "Zonnepanelen monteren"),  # lemma: zonnepanelen -> zonnepaneel
        ("informatica", "Servicedesk medewerker ICT"),  # synonym: informatica ~ ict
        ("zorgcursus", "Helpende Zorg en Welzijn"),  # compound: zorg + cursus
        ("verpleeg", "Hbo-verpleegkunde deeltijd"),  # the start of a compound
        ("kunstmatige intelligentie", "Werken met AI-tools"),  # a two-word synonym of "ai"
        ("administratie", "Financieel administratief medewerker"),  # another form of a word
    ],
)
def test_finds_what_people_type(example_index: CourseIndex, text: str, expected: str) -> None:
    assert expected in _titles(example_index, SearchQuery(text=text, distinct_titles=True), 3)


def test_words_without_a_topic_list_everything_by_start_date(example_index: CourseIndex) -> None:
    result = example_index.search(SearchQuery(text="ik zoek een cursus"), limit=500)
    assert result.total == len(example_index.courses)
    starts = [h.next_start or date.max for h in result.hits]
    assert starts == sorted(starts)


def test_unknown_words_find_nothing(example_index: CourseIndex) -> None:
    result = example_index.search(SearchQuery(text="ruimtevaarttechniek"))
    assert result.total == 0
    assert result.unknown == ("ruimtevaarttechniek",)


def test_filters(example_index: CourseIndex) -> None:
    def hits(**filters: object) -> list[CourseRecord]:
        query = SearchQuery(text="zorg", **filters)  # type: ignore[arg-type]
        return [h.course for h in example_index.search(query, limit=500).hits]

    cheap = hits(max_price_cents=50_000)
    assert cheap
    assert all(c.price_cents is not None and c.price_cents <= 50_000 for c in cheap)
    assert all(c.format == "online" for c in hits(format="online"))
    assert {c.level for c in hits(levels=("mbo-3", "mbo-4"))} <= {"mbo-3", "mbo-4"}
    in_gelderland = hits(region="Gelderland")
    assert in_gelderland
    assert all(c.region == "Gelderland" for c in in_gelderland)
    with_online = hits(region="Gelderland", include_online=True)
    assert {c.format for c in with_online if c.region != "Gelderland"} == {"online"}
    before = hits(start_before=date(2027, 3, 1))
    assert before
    assert all(c.next_start(TODAY) <= date(2027, 3, 1) for c in before)  # type: ignore[operator]


def test_distance_to_a_place() -> None:
    def course(pk: int, place: str, lat: float, lon: float) -> CourseRecord:
        return CourseRecord(
            pk=pk,
            provider_id=1,
            provider_name="p",
            course_id=str(pk),
            title=f"Excel in {place}",
            format="klassikaal",
            location=place,
            lat=lat,
            lon=lon,
        )

    online = replace(course(3, "", 0, 0), format="online", lat=None, lon=None)
    index = CourseIndex(
        [course(1, "Utrecht", 52.09, 5.12), course(2, "Groningen", 53.22, 6.57), online], TODAY
    )
    near_amersfoort = SearchQuery(text="excel", near=(52.16, 5.39), within_km=30)
    assert [h.course.pk for h in index.search(near_amersfoort).hits] == [1]
    with_online = replace(near_amersfoort, include_online=True)
    assert sorted(h.course.pk for h in index.search(with_online).hits) == [1, 3]
    wide = replace(near_amersfoort, within_km=200)
    assert sorted(h.course.pk for h in index.search(wide).hits) == [1, 2]


def test_one_title_first_when_asked(example_index: CourseIndex) -> None:
    query = SearchQuery(text="zorg", distinct_titles=True)
    titles = _titles(example_index, query, limit=5)
    assert len(set(titles)) == len(titles)
    assert len(set(_titles(example_index, replace(query, distinct_titles=False)))) < 5


def test_search_quality_on_the_labelled_queries(example_index: CourseIndex) -> None:
    """Regression bar, well below the measured figures (see bench/search.py)."""
    queries = load_queries(QUERIES)
    assert len(queries) >= 40
    report = evaluate(example_index, queries, k=5)
    assert report.ndcg_at_k >= 0.85, report.per_query
    assert report.mrr >= 0.9, report.per_query


async def _ranked(url: str) -> list[tuple[str, int, list[tuple[str, str, float]]]]:
    engine = create_engine(url)
    try:
        knowledge = Knowledge()
        async with session_factory(engine)() as session:
            ranked = []
            for labelled in load_queries(QUERIES):
                query = SearchQuery(text=labelled.query, **labelled.filters)
                result = await knowledge.search_courses(session, query, today=TODAY, limit=10)
                hits = [(h.course.provider_name, h.course.course_id, h.score) for h in result.hits]
                ranked.append((labelled.query, result.total, hits))
            return ranked
    finally:
        await engine.dispose()


@pytest.mark.skipif(postgres_url() is None, reason="TEST_POSTGRES_URL is not set")
async def test_same_results_on_sqlite_and_postgresql(tmp_path: Path) -> None:
    """The same seed gives the same ranking, totals and scores on both databases."""
    server = postgres_url()
    assert server is not None
    async with migrated_sqlite(tmp_path) as sqlite, migrated_postgres(server) as postgres:
        assert await _ranked(sqlite) == await _ranked(postgres)


@pytest.mark.db
async def test_index_follows_changes(sessions: async_sessionmaker[AsyncSession]) -> None:
    from knowledge.catalogue import bump_revision

    knowledge = Knowledge()
    async with sessions() as session:
        first = await knowledge.course_index(session, TODAY)
        assert await knowledge.course_index(session, TODAY) is first
        assert await Knowledge().course_index(session, TODAY) is not first  # each app its own
    async with sessions() as session, session.begin():
        await bump_revision(session)
    async with sessions() as session:
        assert await knowledge.course_index(session, TODAY) is not first
        assert await knowledge.course_index(session, date(2026, 11, 28)) is not first
