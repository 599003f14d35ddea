"""Regulation facts (issue 12): provenance on every fact, review dates, no ended scheme offered
as open anywhere, the seed refreshing older copies, and reading what a question asks."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actions.regulations import answer, question_of, stated_age
from knowledge import (
    FactTopic,
    RegulationIn,
    facts_of,
    find_regulation,
    list_regulations,
    named_in,
    open_alternatives,
    open_regulations,
    put_regulation,
    seed_knowledge,
    stale_items,
)
from knowledge.models import Regulation

SEED = Path(__file__).resolve().parents[2] / "knowledge" / "data" / "regulations.yml"
DECEMBER = date(2026, 12, 2)
# Official sources come first; where a regulation's own page is elsewhere, it is named here.
OFFICIAL = (
    "rijksoverheid.nl",
    "duo.nl",
    "uwv.nl",
    "uitvoeringvanbeleidszw.nl",
    "belastingdienst.nl",
    "wetten.overheid.nl",
    "officielebekendmakingen.nl",
    "werkcentrum.nl",
    "samenvoordeklant.nl",
    "rijksfinancien.nl",
    "eur-lex.europa.eu",
)


def _entries() -> list[dict[str, object]]:
    entries: list[dict[str, object]] = yaml.safe_load(SEED.read_text("utf-8"))["regulations"]
    return entries


@pytest.mark.parametrize("entry", _entries(), ids=[str(e["slug"]) for e in _entries()])
def test_every_seed_regulation_and_fact_has_a_deep_source_and_a_review_date(
    entry: dict[str, object],
) -> None:
    body = RegulationIn.model_validate({k: v for k, v in entry.items() if k != "slug"})
    assert body.review_by is not None and body.review_by > body.checked_on
    for fact in body.facts:
        assert fact.review_by > fact.checked_on
        assert fact.checked_on <= DECEMBER
    if body.country == "NL" and body.kind != "fonds":
        # Dutch schemes: the main source is an official page where one was found.
        allowed = (*OFFICIAL, "ondernemersklankbord.nl", "rompslomp.nl", "ad.nl")
        assert any(host in str(body.source_url) for host in allowed), body.source_url


@pytest.mark.parametrize(
    "url",
    ["https://www.rijksoverheid.nl", "https://www.duo.nl/", "duo.nl/particulier", "facts.md"],
)
def test_a_homepage_or_a_non_url_is_refused_as_source(url: str) -> None:
    entry = next(e for e in _entries() if e["slug"] == "levenlanglerenkrediet")
    data = {k: v for k, v in entry.items() if k != "slug"}
    with pytest.raises(ValidationError):
        RegulationIn.model_validate({**data, "source_url": url})
    facts = list(data["facts"])  # type: ignore[call-overload]
    with pytest.raises(ValidationError):
        RegulationIn.model_validate({**data, "facts": [{**facts[0], "source_url": url}]})


def test_a_file_name_is_refused_as_source_name() -> None:
    entry = next(e for e in _entries() if e["slug"] == "o-en-o-fonds")
    data = {k: v for k, v in entry.items() if k != "slug"}
    with pytest.raises(ValidationError):
        RegulationIn.model_validate({**data, "source_name": "facts/regulations.md (sectorfondsen)"})


@pytest.mark.db
async def test_no_ended_scheme_is_offered_as_open_anywhere(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        regulations = await list_regulations(session)
        ended = {r.slug for r in regulations if r.valid_until and r.valid_until < DECEMBER}
        assert {"stap-budget", "ontwikkeladvies", "aftrek-studiekosten"} <= ended
        offered = {r.slug for r in await open_regulations(session, DECEMBER)}
        offered |= {
            r.slug
            for r in await open_regulations(session, DECEMBER, kinds=("lening", "budget", "fonds"))
        }
        for regulation in regulations:
            offered |= {r.slug for r in await open_alternatives(session, regulation, DECEMBER)}
        assert offered and not offered & ended


@pytest.mark.db
async def test_stale_lists_what_is_past_review_and_an_update_clears_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        assert await stale_items(session, DECEMBER) == []
        later = date(2027, 2, 1)  # past the rate's review date (31 January 2027)
        stale = await stale_items(session, later)
        assert ("levenlanglerenkrediet", "rate") in {(i.slug, i.topic) for i in stale}
        llk = await find_regulation(session, "levenlanglerenkrediet")
        assert llk is not None
        body = RegulationIn.model_validate(
            {
                **_plain(llk),
                "review_by": "2027-12-01",
                "facts": [
                    {**f.model_dump(mode="json"), "review_by": "2027-12-01"} for f in facts_of(llk)
                ],
            }
        )
        await put_regulation(session=session, slug="levenlanglerenkrediet", data=body)
        stale = await stale_items(session, later)
        assert "levenlanglerenkrediet" not in {i.slug for i in stale}


def _plain(regulation: Regulation) -> dict[str, object]:
    fields = RegulationIn.model_fields
    return {k: getattr(regulation, k) for k in fields if k != "facts"}


@pytest.mark.db
async def test_the_seed_replaces_an_older_copy_but_keeps_a_newer_one(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        llk = await find_regulation(session, "levenlanglerenkrediet")
        assert llk is not None
        llk.amounts = "Rente 2,57% (2025)."
        llk.checked_on = date(2026, 11, 27)
        slim = await find_regulation(session, "slim-regeling")
        assert slim is not None
        slim.amounts = "Bijgewerkt door een beheerder."
        slim.checked_on = DECEMBER + timedelta(days=5)
        report = await seed_knowledge(session)
        assert report.regulations == 1
        assert "2,33%" in llk.amounts
        assert slim.amounts == "Bijgewerkt door een beheerder."


@pytest.mark.db
@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("ik ben zzp'er mag ik mijn cursus aftrekken", "zzp-scholingskosten"),
        ("kan ik mijn studiekosten nog aftrekken", "aftrek-studiekosten"),
        ("welk sectorfonds betaalt een lascursus", "o-en-o-fonds"),
        ("betaalt oom mijn cursus lassen", "oom"),
        ("kan ik nog gratis ontwikkeladvies krijgen", "ontwikkeladvies"),
        ("waar krijg ik gratis loopbaanadvies", "werkcentrum"),
        ("is er in nederland een leerrekening", "leerrekening"),
        ("geldt het levenslang leren krediet voor bbl", "levenlanglerenkrediet"),
        ("subsidie praktijkleren voor mijn bbl leerling", "praktijkleren"),
    ],
)
async def test_the_regulation_a_sentence_is_about(
    sessions: async_sessionmaker[AsyncSession], text: str, slug: str
) -> None:
    async with sessions() as session:
        found = await named_in(session, text)
    assert found is not None and found.slug == slug


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("ik ben 58 kan ik nog lenen", 58),
        ("met 61 jaar nog studeren", 61),
        ("als 45-jarige", 45),
        ("moet je jonger dan 57 zijn", None),
        ("niveau 4 opleiding", None),
    ],
)
def test_a_stated_age(text: str, age: int | None) -> None:
    assert stated_age(text) == age


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("wat is de rente", FactTopic.RATE),
        ("geldt het ook voor bbl", FactTopic.LEERWEG),
        ("wanneer is de volgende aanvraagperiode", FactTopic.WINDOW),
        ("hoeveel procent krijg je", FactTopic.AMOUNT),
        ("bestaat het nog", FactTopic.STATUS),
        ("ik ben 58", FactTopic.AGE),
    ],
)
def test_what_a_question_asks_first(text: str, topic: FactTopic) -> None:
    assert question_of(text).topics[0] == topic


@pytest.mark.db
async def test_the_answer_follows_the_level_asked(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        paths = await find_regulation(session, "ontwikkelpaden")
    assert paths is not None
    four = answer(paths, question_of("hoeveel bij niveau 4"))
    two = answer(paths, question_of("hoeveel bij niveau 2"))
    assert four is not None and four.facts[0].text.startswith("Op niveau 4 krijgt")
    assert two is not None and "90%" in two.facts[0].text.split(".")[0]
    unknown = answer(paths, question_of("wat is de rente"))
    assert unknown is not None and not unknown.facts and not unknown.says
