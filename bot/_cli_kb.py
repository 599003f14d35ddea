"""`leerloop kb ...`: import, export and search the knowledge base from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from core.db import create_engine, session_factory, upgrade
from core.models import Organisation, OrgKind
from core.settings import Settings
from knowledge import (
    CourseDataError,
    ImportFormat,
    Knowledge,
    SearchQuery,
    course_out,
    export_rows,
    import_courses,
    parse,
    seed_knowledge,
    stale_items,
)
from knowledge.courses import list_courses
from knowledge.search import FORMATS, LEVELS


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    kb = sub.add_parser("kb", help="the knowledge base: courses and regulations")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True)
    imp = kb_sub.add_parser("import", help="import courses (CSV, JSON or an OOAPI page), atomic")
    imp.add_argument("file", type=Path)
    imp.add_argument("--org", type=int, required=True, help="id of the institution")
    imp.add_argument("--format", choices=["csv", "json", "ooapi"], help="default: from the file")
    exp = kb_sub.add_parser("export", help="print courses as JSON (the import format)")
    exp.add_argument("--org", type=int, help="only this institution's courses")
    search = kb_sub.add_parser("search", help="search courses as the bot does")
    search.add_argument("text", nargs="?", default="")
    search.add_argument("--region", help="province or labour-market region")
    search.add_argument("--near", help="a town; with --km")
    search.add_argument("--km", type=float, default=25.0)
    search.add_argument("--max-price", type=int, metavar="CENTS")
    search.add_argument("--level", action="append", choices=LEVELS)
    search.add_argument("--format", choices=FORMATS)
    search.add_argument("--start-before", type=date.fromisoformat, metavar="YYYY-MM-DD")
    search.add_argument("--limit", type=int, default=10)
    search.add_argument("--json", action="store_true")
    stale = kb_sub.add_parser(
        "stale", help="regulations and facts past their review date (exit 1 when any)"
    )
    stale.add_argument("--on", type=date.fromisoformat, metavar="YYYY-MM-DD", help="default: today")
    stale.add_argument("--json", action="store_true")


@asynccontextmanager
async def _session(settings: Settings) -> AsyncIterator[AsyncSession]:
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        async with session_factory(engine)() as session, session.begin():
            await seed_knowledge(session, with_examples=settings.seed_examples)
            yield session
    finally:
        await engine.dispose()


def _detect(path: Path, payload: bytes) -> ImportFormat:
    if path.suffix.lower() == ".csv":
        return "csv"
    try:
        data = json.loads(payload)
    except ValueError:
        return "csv"
    return "ooapi" if isinstance(data, dict) and "items" in data else "json"


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.kb_command == "import":
        if not args.file.is_file():
            print(f"leerloop kb import: no such file: {args.file}", file=sys.stderr)
            return 2
        payload = args.file.read_bytes()
        fmt: ImportFormat = args.format or _detect(args.file, payload)
        async with _session(settings) as session:
            org = await session.get(Organisation, args.org)
            if org is None or org.kind != OrgKind.INSTITUTION:
                print(f"leerloop kb import: no institution with id {args.org}", file=sys.stderr)
                return 2
            try:
                rows = parse(payload, fmt)
                report = await import_courses(
                    session=session, provider=org, rows=rows, source=f"import:{fmt}"
                )
            except CourseDataError as exc:
                print(f"nothing imported: {len(exc.errors)} problem(s)", file=sys.stderr)
                for error in exc.errors:
                    print(f"  row {error.row}, {error.field}: {error.reason}", file=sys.stderr)
                return 1
        print(f"imported {report.total} courses ({report.created} new, {report.updated} updated)")
        return 0

    if args.kb_command == "export":
        async with _session(settings) as session:
            courses = [
                course_out(course, provider)
                for course, provider in await list_courses(session, args.org)
            ]
        print(json.dumps(export_rows(courses), ensure_ascii=False, indent=1))
        return 0

    if args.kb_command == "stale":
        today = args.on or date.today()
        async with _session(settings) as session:
            items = await stale_items(session, today)
        if args.json:
            print(
                json.dumps(
                    [
                        {
                            "slug": i.slug,
                            "fact": i.topic,
                            "review_by": i.review_by.isoformat() if i.review_by else None,
                            "source_url": i.source_url,
                        }
                        for i in items
                    ]
                )
            )
        else:
            print(f"{len(items)} to check again (review_by before {today.isoformat()})")
            for i in items:
                what = f"{i.slug} ({i.topic})" if i.topic else i.slug
                when = i.review_by.isoformat() if i.review_by else "no review date"
                print(f"  {what}: review by {when}, source {i.source_url}")
        return 1 if items else 0

    knowledge = Knowledge()  # this command's own: one search, then the process ends
    async with _session(settings) as session:
        point = None
        if args.near:
            location = await knowledge.find_location(session, args.near)
            if location is None or location.lat is None or location.lon is None:
                print(f"leerloop kb search: unknown town: {args.near}", file=sys.stderr)
                return 2
            point = (location.lat, location.lon)
        query = SearchQuery(
            text=args.text,
            region=args.region,
            near=point,
            within_km=args.km,
            max_price_cents=args.max_price,
            levels=tuple(args.level or ()),
            format=args.format,
            start_before=args.start_before,
        )
        result = await knowledge.search_courses(
            session, query, today=date.today(), limit=args.limit
        )
    if args.json:
        print(
            json.dumps(
                {
                    "total": result.total,
                    "hits": [
                        {
                            "provider": h.course.provider_name,
                            "course_id": h.course.course_id,
                            "title": h.course.title,
                            "score": h.score,
                            "next_start": h.next_start.isoformat() if h.next_start else None,
                        }
                        for h in result.hits
                    ],
                },
                ensure_ascii=False,
            )
        )
        return 0
    print(f"{result.total} courses")
    for hit in result.hits:
        c = hit.course
        place = c.location or c.format or ""
        price = f"€ {c.price_cents / 100:.2f}" if c.price_cents is not None else "price unknown"
        print(f"{hit.score:6.2f}  {c.title} — {c.provider_name}, {place}, {price}")
    return 0
