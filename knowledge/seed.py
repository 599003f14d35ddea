"""Load the knowledge base on first start: ESCO taxonomy, places (every municipality and
residence, `places_nl.csv`) and Leerwerkloketten, regulations and example courses (all from
`knowledge/data/`).

Idempotent: `kb_meta.seed_version` records what was loaded. Regulations are added by slug and
never overwrite an admin's edit; example courses are loaded once, so an institution that
deletes them does not see them come back.
"""

from __future__ import annotations

import csv
import json
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Organisation, OrgKind
from core.yaml_files import load_yaml
from knowledge.courses import PROVINCES, import_courses
from knowledge.models import (
    IscoGroup,
    KbMeta,
    Leerwerkloket,
    Occupation,
    Place,
    Regulation,
    Skill,
)
from knowledge.places import place_key
from knowledge.regulations import RegulationIn, put_regulation

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
SEED_VERSION = 1
SEED_KEY = "seed_version"
# The national Werkcentrum site points to each region's Werkcentrum or Leerwerkloket (the
# Leerwerkloketten are merging into the Werkcentra). "leerwerkloketten.nl", used before, could
# not be verified (../shared/facts/regulations.md, 2026-12-01).
LEERWERKLOKET_URL = "https://www.werkcentrum.nl"
_OLD_LEERWERKLOKET_URLS = ("https://www.leerwerkloketten.nl",)
EXAMPLE_SOURCE = "example"
# Version of knowledge/data/places_nl.csv: a newer one replaces the places table on start.
PLACES_VERSION = 2
PLACES_KEY = "places_version"
# Province names as people write them (the official name, and the short or Frisian one).
_PROVINCE_NAMES = [(p, p) for p in PROVINCES] + [
    ("Brabant", "Noord-Brabant"),
    ("Fryslân", "Friesland"),
]
# The town each Leerwerkloket is named after when the region has no single obvious centre.
_MAIN_PLACE = {
    "Achterhoek": "Doetinchem",
    "Drenthe": "Assen",
    "Flevoland": "Almere",
    "FoodValley": "Ede",
    "Friesland": "Leeuwarden",
    "Gooi en Vechtstreek": "Hilversum",
    "Groot Amsterdam": "Amsterdam",
    "Haaglanden": "Den Haag",
    "Holland Rijnland": "Leiden",
    "Midden-Brabant": "Tilburg",
    "Midden-Gelderland": "Arnhem",
    "Midden-Holland": "Gouda",
    "Midden-Limburg": "Roermond",
    "Midden-Utrecht": "Utrecht",
    "Noord-Holland Noord": "Alkmaar",
    "Noord-Limburg": "Venlo",
    "Noordoost-Brabant": "Den Bosch",
    "Regio Zwolle": "Zwolle",
    "Rijk van Nijmegen": "Nijmegen",
    "Rijnmond": "Rotterdam",
    "Rivierenland": "Tiel",
    "Stedendriehoek en Noordwest Veluwe": "Apeldoorn",
    "Twente": "Enschede",
    "West-Brabant": "Breda",
    "Zaanstreek/Waterland": "Zaandam",
    "Zeeland": "Middelburg",
    "Zuid-Holland Centraal": "Zoetermeer",
    "Zuid-Kennemerland en IJmond": "Haarlem",
    "Zuid-Limburg": "Heerlen",
    "Zuidoost-Brabant": "Eindhoven",
}


@dataclass(frozen=True)
class SeedReport:
    skills: int = 0
    occupations: int = 0
    places: int = 0
    loketten: int = 0
    regulations: int = 0
    courses: int = 0


def _csv(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


async def _count(session: AsyncSession, model: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _taxonomy(session: AsyncSession) -> tuple[int, int]:
    if await _count(session, Skill) == 0:
        rows = [
            {
                "uri": r["uri"],
                "code": r["code"],
                "label": r["label"],
                "level": int(r["level"]),
                "parent_uri": r["parent_uri"] or None,
                "description": r["description"],
            }
            for r in _csv("esco_skills.csv")
        ]
        await session.execute(insert(Skill), rows)
        await session.execute(insert(IscoGroup), _csv("isco_groups.csv"))
        occupations = [
            {
                "uri": r["uri"],
                "label": r["label"],
                "alt_labels": [a for a in r["alt_labels"].split("|") if a],
                "isco_code": r["isco_code"],
                "description": r["description"],
            }
            for r in _csv("esco_occupations.csv")
        ]
        await session.execute(insert(Occupation), occupations)
        return len(rows), len(occupations)
    return 0, 0


async def _places(session: AsyncSession) -> tuple[int, int]:
    """Every place, region and province (again when the place data is newer than the table)."""
    await session.execute(
        update(Leerwerkloket)
        .where(Leerwerkloket.url.in_(_OLD_LEERWERKLOKET_URLS))
        .values(url=LEERWERKLOKET_URL)
    )
    meta = await session.get(KbMeta, PLACES_KEY)
    if meta is not None and meta.value >= PLACES_VERSION:
        return 0, 0
    await session.execute(delete(Place))
    rows: list[dict[str, Any]] = [
        {
            "key": place_key(r["name"]),
            "name": r["name"],
            "kind": r["kind"],
            "municipality": r["municipality"],
            "province": r["province"],
            "labour_market_region": r["labour_market_region"],
            "lat": float(r["lat"]),
            "lon": float(r["lon"]),
            "population": int(r["population"]),
            "needs_cue": r["needs_cue"] == "1",
        }
        for r in _csv("places_nl.csv")
    ]
    places = len(rows)
    regions = sorted({str(r["labour_market_region"]) for r in rows})
    rows += [_area(region, "region", "", region) for region in regions]
    rows += [_area(name, "province", province, "") for name, province in _PROVINCE_NAMES]
    await session.execute(insert(Place), rows)
    if meta is None:
        session.add(KbMeta(key=PLACES_KEY, value=PLACES_VERSION))
    else:
        meta.value = PLACES_VERSION

    known = set((await session.scalars(select(Leerwerkloket.region))).all())
    first_place: dict[str, str] = {}
    for r in _csv("places.csv"):  # the hand-checked towns, in their own order
        first_place.setdefault(r["labour_market_region"], r["place"])
    loketten = [
        {
            "region": region,
            "name": f"Leerwerkloket {region}",
            "main_place": _MAIN_PLACE.get(region, first_place[region]),
            "url": LEERWERKLOKET_URL,
        }
        for region in regions
        if region not in known
    ]
    if loketten:
        await session.execute(insert(Leerwerkloket), loketten)
    return places, len(loketten)


def _area(name: str, kind: str, province: str, region: str) -> dict[str, Any]:
    return {
        "key": place_key(name),
        "name": province or name,
        "kind": kind,
        "municipality": "",
        "province": province,
        "labour_market_region": region,
        "lat": None,
        "lon": None,
        "population": 0,
        "needs_cue": False,
    }


async def _regulations(session: AsyncSession) -> int:
    """Add the seed's regulations that are missing, and replace those the seed has checked more
    recently than the stored copy (an admin's newer update is kept)."""
    data = load_yaml(DATA_DIR / "regulations.yml")
    entries = data["regulations"]
    pending: list[tuple[str, RegulationIn]] = []
    for entry in entries:
        body = RegulationIn.model_validate({k: v for k, v in entry.items() if k != "slug"})
        stored = await session.get(Regulation, entry["slug"])
        if stored is None or stored.checked_on < body.checked_on:
            pending.append((entry["slug"], body))
    # Two passes: a regulation may name a successor that comes later in the file.
    for slug, body in pending:
        await put_regulation(
            session=session, slug=slug, data=body.model_copy(update={"replaced_by": []})
        )
    for slug, body in pending:
        await put_regulation(session=session, slug=slug, data=body)
    return len(pending)


async def _example_courses(session: AsyncSession) -> int:
    data = json.loads((DATA_DIR / "example_courses.json").read_text(encoding="utf-8"))
    total = 0
    for provider in data["providers"]:
        org = Organisation(
            name=provider["name"],
            kind=OrgKind.INSTITUTION,
            # Example providers have no usable token: the hash of a secret nobody keeps.
            token_hash=secrets.token_hex(32),
        )
        session.add(org)
        await session.flush()
        report = await import_courses(
            session=session,
            provider=org,
            rows=provider["courses"],
            source=EXAMPLE_SOURCE,
            is_example=True,
        )
        total += report.total
    return total


async def seed_knowledge(session: AsyncSession, *, with_examples: bool = True) -> SeedReport:
    """Load whatever of the seed is missing (in the caller's transaction)."""
    meta = await session.get(KbMeta, SEED_KEY, with_for_update=True)
    version = meta.value if meta else 0
    skills, occupations = await _taxonomy(session)
    places, loketten = await _places(session)
    regulations = await _regulations(session)
    courses = 0
    if version < 1 and with_examples:
        courses = await _example_courses(session)
    if meta is None:
        session.add(KbMeta(key=SEED_KEY, value=SEED_VERSION))
    else:
        meta.value = SEED_VERSION
    await session.flush()
    report = SeedReport(skills, occupations, places, loketten, regulations, courses)
    if any(vars(report).values()):
        logger.info("knowledge base seeded: %s", report)
    return report
