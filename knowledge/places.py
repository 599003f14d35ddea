"""Places, provinces and labour-market regions: find one in a text, and its Leerwerkloket."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge.models import Leerwerkloket, Place
from knowledge.text import fold

_WORD_EDGE = r"(?<![a-z0-9]){}(?![a-z0-9])"


@dataclass(frozen=True)
class Location:
    """Where a user is or wants to learn: a town, a province or a labour-market region."""

    kind: str  # "place", "province" or "region"
    name: str
    province: str | None = None
    region: str | None = None  # labour-market region (for a place or a region)
    lat: float | None = None
    lon: float | None = None


async def _all_places(session: AsyncSession) -> list[Place]:
    return list((await session.scalars(select(Place).order_by(Place.name))).all())


async def find_location(session: AsyncSession, text: str) -> Location | None:
    """The first place, region or province named in `text` (longest name wins at a position)."""
    folded = fold(text)
    places = await _all_places(session)
    candidates: list[tuple[str, Location]] = []
    for place in places:
        candidates.append(
            (
                place.name,
                Location(
                    "place",
                    place.name,
                    place.province,
                    place.labour_market_region,
                    place.lat,
                    place.lon,
                ),
            )
        )
    for region in sorted({p.labour_market_region for p in places}):
        candidates.append((region, Location("region", region, region=region)))
    for province in sorted({p.province for p in places}):
        candidates.append((province, Location("province", province, province=province)))
    candidates += [
        ("Brabant", Location("province", "Noord-Brabant", province="Noord-Brabant")),
        ("Fryslân", Location("province", "Friesland", province="Friesland")),
    ]
    best: tuple[int, int, Location] | None = None
    for name, location in candidates:
        match = re.search(_WORD_EDGE.format(re.escape(fold(name))), folded)
        if match is None:
            continue
        rank = (match.start(), -len(name))
        if best is None or rank < best[:2]:
            best = (rank[0], rank[1], location)
    return best[2] if best else None


async def loket_for(session: AsyncSession, location: Location) -> Leerwerkloket | None:
    """The Leerwerkloket for a place or region; a province alone is ambiguous (None)."""
    if location.region is None:
        return None
    loket: Leerwerkloket | None = await session.get(Leerwerkloket, location.region)
    return loket


async def regions_in_province(session: AsyncSession, province: str) -> list[str]:
    rows = await session.scalars(
        select(Place.labour_market_region).where(Place.province == province).distinct()
    )
    return sorted(rows.all())
