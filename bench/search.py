"""Knowledge-base benchmark: seed time, search quality, and search latency at 10,000 courses.

Run: .venv/bin/python -m bench.search [--courses 10000] [--postgres URL]
- seed: migrate + seed an empty database (the first start), seconds.
- quality: nDCG@5 and MRR of the labelled queries in tests/knowledge/search_queries.yml.
- scale: a synthetic catalogue of N courses (the example courses, varied in provider, place,
  price, format and dates), imported through the real import path; then index build time and
  the latency of each labelled query, with and without filters (p50/p95/p99, in ms, measured
  through `Knowledge.search_courses`, i.e. including the revision check on the database).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import text

from core.db import create_engine, session_factory, upgrade
from core.models import Organisation, OrgKind
from knowledge import Knowledge, SearchQuery, import_courses, seed_knowledge
from knowledge.evaluation import evaluate, load_queries

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "tests" / "knowledge" / "search_queries.yml"
EXAMPLES = ROOT / "knowledge" / "data" / "example_courses.json"
PLACES = ROOT / "knowledge" / "data" / "places.csv"
TODAY = date(2026, 11, 27)


def _synthetic(n: int, seed: int = 42) -> list[list[dict[str, Any]]]:
    """N courses spread over 50 providers, derived from the example courses."""
    import csv

    rnd = random.Random(seed)
    examples = [
        c for p in json.loads(EXAMPLES.read_text("utf-8"))["providers"] for c in p["courses"]
    ]
    with PLACES.open(encoding="utf-8") as f:
        places = [(r["place"], r["province"]) for r in csv.DictReader(f)]
    providers: list[list[dict[str, Any]]] = [[] for _ in range(50)]
    for i in range(n):
        course = dict(rnd.choice(examples))
        course["course_id"] = f"s{i:06d}"
        fmt = rnd.choice(["online", "klassikaal", "blended"])
        course["format"] = fmt
        if fmt == "online":
            course["location"], course["region"] = "", ""
        else:
            course["location"], course["region"] = rnd.choice(places)
        if course.get("price_cents"):
            course["price_cents"] = int(course["price_cents"] * rnd.uniform(0.7, 1.3))
        start = date(2027, 1, 4).toordinal() + rnd.randint(0, 360)
        course["start_dates"] = [date.fromordinal(start).isoformat()]
        providers[i % 50].append(course)
    return providers


async def _seed_seconds(url: str) -> float:
    engine = create_engine(url)
    started = time.perf_counter()
    await upgrade(engine)
    async with session_factory(engine)() as session, session.begin():
        await seed_knowledge(session)
    seconds = time.perf_counter() - started
    await engine.dispose()
    return seconds


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def run(n: int, url: str) -> dict[str, Any]:
    report: dict[str, Any] = {"database": url.split(":")[0]}
    report["seed_seconds"] = round(await _seed_seconds(url), 2)

    engine = create_engine(url)
    sessions = session_factory(engine)
    queries = load_queries(QUERIES)
    knowledge = Knowledge()
    async with sessions() as session:
        index = await knowledge.course_index(session, TODAY)
        quality = evaluate(index, queries, k=5)
    report["quality"] = {
        "queries": len(queries),
        "ndcg_at_5": round(quality.ndcg_at_k, 3),
        "mrr": round(quality.mrr, 3),
    }

    started = time.perf_counter()
    async with sessions() as session, session.begin():
        for number, courses in enumerate(_synthetic(n)):
            org = Organisation(
                name=f"Bench provider {number}",
                kind=OrgKind.INSTITUTION,
                token_hash=f"bench{number:059d}",
            )
            session.add(org)
            await session.flush()
            await import_courses(session=session, provider=org, rows=courses, source="bench")
    report["import_seconds"] = round(time.perf_counter() - started, 1)

    async with sessions() as session:
        total = (await session.execute(text("SELECT COUNT(*) FROM courses"))).scalar_one()
        started = time.perf_counter()
        await knowledge.course_index(session, TODAY)
        report["courses"] = total
        report["index_build_seconds"] = round(time.perf_counter() - started, 2)
        searches: list[SearchQuery] = []
        for labelled in queries:
            plain = SearchQuery(text=labelled.query, **labelled.filters)
            searches += [
                plain,
                replace(plain, near=(52.09, 5.12), within_km=30, include_online=True),
                replace(plain, max_price_cents=100_000, levels=("mbo-2", "mbo-3", "mbo-4")),
            ]
        for query in searches[:20]:  # warm up
            await knowledge.search_courses(session, query, today=TODAY, limit=3)
        timings: list[float] = []
        for _ in range(3):
            for query in searches:
                started = time.perf_counter()
                await knowledge.search_courses(session, query, today=TODAY, limit=3)
                timings.append((time.perf_counter() - started) * 1000)
    report["search_ms"] = {
        "searches": len(timings),
        "p50": round(_percentile(timings, 50), 2),
        "p95": round(_percentile(timings, 95), 2),
        "p99": round(_percentile(timings, 99), 2),
        "max": round(max(timings), 2),
        "mean": round(statistics.fmean(timings), 2),
    }
    await engine.dispose()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--courses", type=int, default=10_000)
    parser.add_argument("--postgres", help="a PostgreSQL URL to a fresh, empty database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.postgres or f"sqlite+aiosqlite:///{tmp}/bench.db"
        print(json.dumps(asyncio.run(run(args.courses, url)), indent=2))


if __name__ == "__main__":
    main()
