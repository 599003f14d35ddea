"""Every entity type, with its normalised value (reference time: Friday 27 November 2026)."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from nlu import NluModel

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))


def entities(model: NluModel, text: str) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for e in model.parse(text, now=NOW)["entities"]:
        found.setdefault(e["entity"], []).append(e["value"])
    return found


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        ("kost het € 1.250,-", "amount", 125000),
        ("ik heb duizend euro", "amount", 100000),
        ("een cursus van 499,95 euro", "amount", 49995),
        ("max 2k euro", "amount", 200000),
        ("herinner me volgende week dinsdag", "date", "2026-12-01"),
        ("op 15 maart", "date", "2027-03-15"),
        ("morgen graag", "date", "2026-11-28"),
        ("over twee weken", "date", "2026-12-11"),
        ("examen op 3-2-2027", "date", "2027-02-03"),
        ("vrijdag om 9 uur", "date", "2026-12-04"),
        ("om half negen", "time", "08:30"),
        ("om kwart over drie", "time", "15:15"),
        ("om 19:45", "time", "19:45"),
        ("'s avonds om 8 uur", "time", "20:00"),
        ("om de week", "frequency", "every 2 week"),
        ("elke maandag", "frequency", "every 1 week on maandag"),
        ("twee keer per week", "frequency", "2x per week"),
        ("maandelijks", "frequency", "every 1 month"),
        ("ik werk al 10 jaar", "duration", "P10Y"),
        ("een cursus van een half jaar", "duration", "P6M"),
        ("ik heb mbo 4", "education_level", "mbo-4"),
        ("een hbo opleiding", "education_level", "hbo"),
        ("NLQF niveau 5", "education_level", "nlqf-5"),
        ("een online cursus", "course_format", "online"),
        ("liever klassikaal", "course_format", "klassikaal"),
        ("een e-learning", "course_format", "online"),
        ("bestaat stapbudget nog", "regulation", "stap"),
        ("wat is de slim regeling", "regulation", "slim"),
        ("levenlang leren krediet", "regulation", "levenlanglerenkrediet"),
        ("het O&O fonds", "regulation", "o-en-o-fonds"),
        ("cursus in Utrecht", "location", "Utrecht"),
        ("ik woon in Den Bosch", "location", "'s-Hertogenbosch"),
        ("ergens in Brabant", "location", "Noord-Brabant"),
        ("cursus Excel", "topic", "Excel"),
        ("een cursus informatica", "topic", "ict"),
        ("ik wil beter worden in communiceren", "skill", "communiceren"),
    ],
)
def test_entity_values(nlu_model: NluModel, text: str, entity: str, value: Any) -> None:
    assert value in entities(nlu_model, text).get(entity, []), entities(nlu_model, text)


def test_occupation_is_linked_to_esco(nlu_model: NluModel) -> None:
    [occupation] = [
        e
        for e in nlu_model.parse("ik werk als lasser in Zwolle")["entities"]
        if e["entity"] == "occupation"
    ]
    assert occupation["value"] == "lasser"
    assert occupation["additional_info"]["esco_uri"].startswith(
        "http://data.europa.eu/esco/occupation/"
    )
    everyday = [
        e
        for e in nlu_model.parse("ik ben verpleegkundige")["entities"]
        if e["entity"] == "occupation"
    ]
    assert everyday[0]["value"] == "algemeen verpleegkundige"


def test_location_knows_its_province(nlu_model: NluModel) -> None:
    [place] = [
        e for e in nlu_model.parse("ik woon in Zwolle")["entities"] if e["entity"] == "location"
    ]
    assert place["additional_info"]["province"] == "Overijssel"


def test_no_overlapping_entities_and_no_false_places(nlu_model: NluModel) -> None:
    result = nlu_model.parse("ik vind het best, stuur om 7 uur 's avonds een herinnering")
    spans = sorted((e["start"], e["end"]) for e in result["entities"])
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans))
    assert "location" not in {e["entity"] for e in result["entities"]}
    assert [e["value"] for e in result["entities"] if e["entity"] == "time"] == ["19:00"]


def test_accents_and_case_do_not_matter(nlu_model: NluModel) -> None:
    assert "regulation" in entities(nlu_model, "LEVENLANGLERENKREDIET")
    assert entities(nlu_model, "één keer per maand").get("frequency") == ["1x per month"]
