"""Institution pages: own courses (search, filter, edit one), upload with a preview and every
bad row before anything is stored, and the catalogue as a download."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, cast

from fastapi import APIRouter, File, Form, HTTPException, UploadFile
from fastapi.responses import HTMLResponse, Response

from bot._api_common import knowledge_of
from bot._api_knowledge import MAX_IMPORT_BYTES
from bot._cli_kb import _detect
from bot.portal._web import (
    PREFIX,
    SECURITY_HEADERS,
    CsrfField,
    Page,
    check_csrf,
    page_for,
    see_other,
)
from core.db import utcnow
from core.models import OrgKind
from knowledge import (
    CourseDataError,
    ImportFormat,
    SearchQuery,
    course_out,
    export_rows,
    get_course,
    import_courses,
    parse,
    put_course,
    validate_courses,
)
from knowledge.courses import courses_by_pk, list_courses
from knowledge.search import FORMATS, LEVELS

InstitutionPage = Annotated[Page, page_for(OrgKind.INSTITUTION)]
LIST_FIELDS = ("topics", "skills", "start_dates")
FORMAT_NAMES = {"csv": "CSV", "json": "JSON", "ooapi": "OOAPI"}


def _course_form(values: dict[str, str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Form fields as a course body (the API's field names); problems the form itself finds."""
    data: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for name, value in values.items():
        value = value.strip()
        if name in LIST_FIELDS:
            data[name] = [part.strip() for part in value.split(";") if part.strip()]
        elif name == "price":
            if value:
                try:
                    cents = Decimal(value.replace(".", "").replace(",", ".")) * 100
                    data["price_cents"] = int(cents)
                except InvalidOperation:
                    errors.append({"row": 0, "field": "price_cents", "reason": "geen bedrag"})
        elif value or name in ("description", "location", "region"):
            data[name] = value
    return data, errors


def _form_values(course: Any) -> dict[str, str]:
    price = (
        "" if course.price_cents is None else f"{course.price_cents / 100:.2f}".replace(".", ",")
    )
    return {
        "title": course.title,
        "description": course.description or "",
        "level": course.level or "",
        "nlqf": "" if course.nlqf is None else str(course.nlqf),
        "format": course.format or "",
        "location": course.location or "",
        "region": course.region or "",
        "price": price,
        "duration_hours": "" if course.duration_hours is None else f"{course.duration_hours:g}",
        "url": str(course.url or ""),
        "topics": "; ".join(course.topics),
        "skills": "; ".join(course.skills),
        "start_dates": "; ".join(d.isoformat() for d in course.start_dates),
    }


def institution_routes() -> APIRouter:
    router = APIRouter()

    @router.get("/cursussen", response_class=HTMLResponse)
    async def courses(
        page: InstitutionPage,
        q: str = "",
        format: str = "",
        level: str = "",
        opgeslagen: int | None = None,
    ) -> HTMLResponse:
        """Your own courses: search words, filter on form and level."""
        query = SearchQuery(
            text=q.strip()[:200],
            format=format if format in FORMATS else None,
            levels=(level,) if level in LEVELS else (),
            provider_id=page.org.id,
        )
        knowledge = knowledge_of(page.request)
        result = await knowledge.search_courses(
            page.session, query, today=utcnow().date(), limit=100
        )
        found = await courses_by_pk(page.session, [hit.course.pk for hit in result.hits])
        items = [
            (course_out(found[h.course.pk], page.org.name), h.next_start)
            for h in result.hits
            if h.course.pk in found
        ]
        return page.render(
            "courses.html",
            {
                "items": items,
                "total": result.total,
                "q": q,
                "format": format,
                "level": level,
                "formats": FORMATS,
                "levels": LEVELS,
                "saved": opgeslagen,
            },
        )

    @router.get("/cursus/{course_id}", response_class=HTMLResponse)
    async def edit_form(page: InstitutionPage, course_id: str) -> HTMLResponse:
        course = await get_course(
            session=page.session, provider_id=page.org.id, course_id=course_id
        )
        if course is None:
            raise HTTPException(404, f"you have no course {course_id}")
        values = _form_values(course_out(course, page.org.name))
        return page.render(
            "course_edit.html",
            {"course_id": course_id, "values": values, "formats": FORMATS, "levels": LEVELS},
        )

    @router.post("/cursus/{course_id}", response_class=HTMLResponse)
    async def edit(
        page: InstitutionPage,
        course_id: str,
        csrf: CsrfField = "",
        title: Annotated[str, Form()] = "",
        description: Annotated[str, Form()] = "",
        level: Annotated[str, Form()] = "",
        nlqf: Annotated[str, Form()] = "",
        format: Annotated[str, Form()] = "",
        location: Annotated[str, Form()] = "",
        region: Annotated[str, Form()] = "",
        price: Annotated[str, Form()] = "",
        duration_hours: Annotated[str, Form()] = "",
        url: Annotated[str, Form()] = "",
        topics: Annotated[str, Form()] = "",
        skills: Annotated[str, Form()] = "",
        start_dates: Annotated[str, Form()] = "",
    ) -> Response:
        """Save one course, with the same checks as the API's PUT."""
        check_csrf(page.signed_in, csrf)
        course = await get_course(
            session=page.session, provider_id=page.org.id, course_id=course_id
        )
        if course is None:
            raise HTTPException(404, f"you have no course {course_id}")
        values = {
            "title": title,
            "description": description,
            "level": level,
            "nlqf": nlqf,
            "format": format,
            "location": location,
            "region": region,
            "price": price,
            "duration_hours": duration_hours,
            "url": url,
            "topics": topics,
            "skills": skills,
            "start_dates": start_dates,
        }
        data, errors = _course_form(values)
        if not errors:
            try:
                async with page.session.begin_nested():
                    await put_course(
                        session=page.session,
                        provider=page.org,
                        course_id=course_id,
                        data=data,
                        source="portal",
                    )
            except CourseDataError as exc:
                errors = [e.as_dict() for e in exc.errors]
        if errors:
            return page.render(
                "course_edit.html",
                {
                    "course_id": course_id,
                    "values": values,
                    "formats": FORMATS,
                    "levels": LEVELS,
                    "errors": errors,
                },
                status_code=422,
            )
        return see_other(f"{PREFIX}/cursussen?opgeslagen=1")

    @router.get("/cursussen/upload", response_class=HTMLResponse)
    async def upload_form(page: InstitutionPage) -> HTMLResponse:
        return page.render("upload.html")

    async def _check(
        page: Page, payload: bytes, fmt: ImportFormat
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(rows as they would be stored, problems); nothing is written."""
        try:
            valid = await validate_courses(page.session, parse(payload, fmt))
        except CourseDataError as exc:
            return [], [e.as_dict() for e in exc.errors]
        existing = {c.course_id for c, _ in await list_courses(page.session, page.org.id)}
        rows = [{"course_id": cid, "course": c, "new": cid not in existing} for cid, c in valid]
        return rows, []

    @router.post("/cursussen/upload", response_class=HTMLResponse)
    async def upload(
        page: InstitutionPage,
        file: Annotated[UploadFile, File()],
        csrf: CsrfField = "",
        fmt: Annotated[str, Form(alias="format")] = "auto",
    ) -> HTMLResponse:
        """Check a file and show what would be stored, or every bad row; store nothing yet."""
        check_csrf(page.signed_in, csrf)
        payload = await file.read(MAX_IMPORT_BYTES + 1)
        problems: list[dict[str, Any]] = []
        if len(payload) > MAX_IMPORT_BYTES:
            problems = [{"row": 0, "field": "body", "reason": "het bestand is groter dan 10 MB"}]
        try:
            text = payload.decode("utf-8-sig")
        except UnicodeDecodeError:
            problems = [{"row": 0, "field": "body", "reason": "het bestand is geen UTF-8-tekst"}]
        chosen: ImportFormat = cast(
            ImportFormat,
            fmt if fmt in FORMAT_NAMES else _detect(Path(file.filename or "x.json"), payload),
        )
        rows: list[dict[str, Any]] = []
        if not problems:
            rows, problems = await _check(page, text.encode("utf-8"), chosen)
        return page.render(
            "upload.html",
            {
                "rows": rows,
                "problems": problems,
                "content": text if not problems else "",
                "chosen": chosen,
                "format_name": FORMAT_NAMES[chosen],
                "filename": file.filename or "",
                "checked": True,
            },
            status_code=422 if problems else 200,
        )

    @router.post("/cursussen/opslaan", response_class=HTMLResponse)
    async def store(
        page: InstitutionPage,
        csrf: CsrfField = "",
        content: Annotated[str, Form()] = "",
        fmt: Annotated[str, Form(alias="format")] = "csv",
    ) -> Response:
        """Store the checked file: every row, or (if anything changed meanwhile) none."""
        check_csrf(page.signed_in, csrf)
        if fmt not in FORMAT_NAMES:
            raise HTTPException(422, "unknown format")
        chosen = cast(ImportFormat, fmt)
        payload = content.encode("utf-8")
        try:
            async with page.session.begin_nested():
                report = await import_courses(
                    session=page.session,
                    provider=page.org,
                    rows=parse(payload, chosen),
                    source=f"portal:{chosen}",
                )
        except CourseDataError as exc:
            return page.render(
                "upload.html",
                {
                    "problems": [e.as_dict() for e in exc.errors],
                    "rows": [],
                    "checked": True,
                    "format_name": FORMAT_NAMES[chosen],
                },
                status_code=422,
            )
        return see_other(f"{PREFIX}/cursussen?opgeslagen={report.total}")

    @router.get("/cursussen/export.{ext}")
    async def download(page: InstitutionPage, ext: str) -> Response:
        """The organisation's catalogue in the import format (JSON or CSV)."""
        rows = export_rows(
            course_out(c, name) for c, name in await list_courses(page.session, page.org.id)
        )
        if ext == "json":
            body = json.dumps(rows, ensure_ascii=False, indent=2).encode("utf-8")
            media = "application/json"
        elif ext == "csv":
            out = io.StringIO()
            columns = ["course_id", "title", "description", "level", "nlqf", "format"]
            columns += ["location", "region", "price_cents", "duration_hours", "url"]
            columns += list(LIST_FIELDS)
            writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            for row in rows:
                writer.writerow(
                    {k: ";".join(map(str, v)) if isinstance(v, list) else v for k, v in row.items()}
                )
            body = out.getvalue().encode("utf-8")
            media = "text/csv"
        else:
            raise HTTPException(404, "no such download")
        return Response(
            body,
            media_type=media,
            headers={
                **SECURITY_HEADERS,
                "Content-Disposition": f'attachment; filename="cursussen.{ext}"',
            },
        )

    return router
