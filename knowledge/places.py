"""Places, municipalities, provinces and labour-market regions: find one in a text, and its
Leerwerkloket.

Every Dutch municipality and residence is a row of `places` (see knowledge/gazetteer.py for
the sources), looked up by its folded key: a text is cut into runs of up to six words and all
of them are looked up in one indexed query, so nothing is loaded into memory per turn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.models import Leerwerkloket, Place
from knowledge.text import fold

_TOKEN_RE = re.compile(r"[a-z0-9]+")
_MAX_WORDS = 6
_MAX_TOKENS = 80
# Words after which a name that is also an everyday word counts as a place ("in Best").
_CUES = frozenset(
    {
        "in",
        "bij",
        "uit",
        "rond",
        "rondom",
        "nabij",
        "naar",
        "van",
        "te",
        "regio",
        "omgeving",
        "buurt",
        "vlakbij",
        "richting",
        "gemeente",
        "provincie",
        "dorp",
        "stad",
    }
)
# A town this large, or one an area is named after ("Gorinchem"), wins over a province or region
# of the same name; a village does not ("Zeeland" in Noord-Brabant is not the province).
_CITY_POPULATION = 50_000
_KIND_ORDER = {"place": 0, "municipality": 1, "region": 2, "province": 3}
PLACE_KINDS = ("place", "municipality")  # the kinds with coordinates


def place_key(name: str) -> str:
    """How a name is looked up: its folded words ("'s-Hertogenbosch" -> "s hertogenbosch")."""
    return " ".join(_TOKEN_RE.findall(fold(name)))


@dataclass(frozen=True)
class Location:
    """Where a user is or wants to learn: a town, a municipality, a province or a
    labour-market region."""

    kind: str  # "place", "municipality", "province" or "region"
    name: str
    province: str | None = None
    region: str | None = None  # labour-market region (for a place, municipality or region)
    lat: float | None = None
    lon: float | None = None
    municipality: str | None = None

    @property
    def point(self) -> tuple[float, float] | None:
        """Where to measure distances from (a town, or a municipality's main place)."""
        if self.lat is None or self.lon is None:
            return None
        return (self.lat, self.lon)


def _location(place: Place) -> Location:
    if place.kind == "province":
        return Location("province", place.province, province=place.province)
    if place.kind == "region":
        return Location("region", place.name, region=place.labour_market_region)
    return Location(
        place.kind,
        place.name,
        place.province,
        place.labour_market_region,
        place.lat,
        place.lon,
        place.municipality or None,
    )


def _strength(place: Place) -> int:
    """At the same words: a city or the town an area is named after, then a region or
    province, then a smaller place."""
    if place.kind in ("region", "province"):
        return 1
    if place.population >= _CITY_POPULATION:
        return 0
    named_after = place.key in (place_key(place.labour_market_region), place_key(place.province))
    return 0 if named_after else 2


async def find_location(session: AsyncSession, text: str) -> Location | None:
    """The first place, municipality, region or province named in `text` (the longest name
    wins at a position; a province named elsewhere in the text settles "Bergen" or "Hengelo")."""
    tokens = _TOKEN_RE.findall(fold(text))[:_MAX_TOKENS]
    spans: dict[str, list[tuple[int, int]]] = {}
    for start in range(len(tokens)):
        for size in range(1, min(_MAX_WORDS, len(tokens) - start) + 1):
            key = " ".join(tokens[start : start + size])
            spans.setdefault(key, []).append((start, size))
    if not spans:
        return None
    rows = list((await session.scalars(select(Place).where(Place.key.in_(list(spans))))).all())
    provinces = {p.province for p in rows if p.kind == "province"}
    best: tuple[tuple[int, int, int, int, int, int], Place] | None = None
    for place in rows:
        for start, size in spans[place.key]:
            alone = size == len(tokens)
            hinted = place.kind not in ("region", "province") and place.province in provinces
            cued = start > 0 and tokens[start - 1] in _CUES
            if place.needs_cue and not (alone or cued or hinted):
                continue
            rank = (
                start,
                -size,
                0 if hinted or not provinces else 1,
                _strength(place),
                _KIND_ORDER.get(place.kind, 9),
                -place.population,
            )
            if best is None or rank < best[0]:
                best = (rank, place)
    return _location(best[1]) if best else None


async def loket_for(session: AsyncSession, location: Location) -> Leerwerkloket | None:
    """The Leerwerkloket for a place or region; a province alone is ambiguous (None)."""
    if location.region is None:
        return None
    loket: Leerwerkloket | None = await session.get(Leerwerkloket, location.region)
    return loket


async def regions_in_province(session: AsyncSession, province: str) -> list[str]:
    rows = await session.scalars(
        select(Place.labour_market_region)
        .where(Place.province == province, Place.kind.in_(PLACE_KINDS))
        .distinct()
    )
    return sorted(rows.all())


async def places_named(session: AsyncSession, names: set[str]) -> dict[str, list[Place]]:
    """The towns and municipalities with these names (by folded key), largest first."""
    keys = {place_key(n) for n in names if n}
    if not keys:
        return {}
    found: dict[str, list[Place]] = {}
    rows = await session.scalars(
        select(Place).where(Place.key.in_(list(keys)), Place.kind.in_(PLACE_KINDS))
    )
    for place in sorted(rows.all(), key=lambda p: (_KIND_ORDER[p.kind], -p.population, p.id)):
        found.setdefault(place.key, []).append(place)
    return found


def pick_place(candidates: list[Place], province: str | None = None) -> Place | None:
    """Of the places with one name, the one in `province` (if given), else the largest town."""
    if province:
        candidates = [p for p in candidates if p.province == province] or candidates
    return candidates[0] if candidates else None
