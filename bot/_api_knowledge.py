"""API routes of the knowledge base: institutions' courses and admins' regulations."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel

from bot._api_common import ErrorResponse, KnowledgeDep, SessionDep, require_kind
from core.db import utcnow
from core.models import Organisation, OrgKind
from knowledge import (
    CourseDataError,
    CourseIn,
    CourseOut,
    ImportFormat,
    RegulationIn,
    RegulationOut,
    RegulationProblem,
    SearchQuery,
    course_out,
    delete_course,
    delete_regulation,
    get_course,
    get_regulation,
    import_courses,
    list_regulations,
    parse,
    put_course,
    put_regulation,
    regulation_out,
)
from knowledge.courses import COURSE_ID_PATTERN, courses_by_pk
from knowledge.regulations import SLUG_PATTERN
from knowledge.search import FORMATS, LEVELS

MAX_IMPORT_BYTES = 10 * 1024 * 1024

Institution = Annotated[Organisation, Depends(require_kind(OrgKind.INSTITUTION))]
Admin = Annotated[Organisation, Depends(require_kind(OrgKind.ADMIN))]


class CourseList(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[CourseOut]


class ImportResult(BaseModel):
    created: int
    updated: int


class RegulationList(BaseModel):
    items: list[RegulationOut]


def _today() -> date:
    return utcnow().date()


def _data_error(exc: CourseDataError) -> HTTPException:
    return HTTPException(422, detail=[e.as_dict() for e in exc.errors])


def _format_of(request: Request, explicit: ImportFormat | None) -> ImportFormat:
    if explicit is not None:
        return explicit
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("text/csv", "application/csv"):
        return "csv"
    if content_type == "application/json":
        return "json"
    raise HTTPException(415, "send text/csv or application/json, or say ?format=csv|json|ooapi")


def knowledge_router() -> APIRouter:
    router = APIRouter()
    course_errors: dict[int | str, dict[str, Any]] = {
        404: {"model": ErrorResponse},
        422: {"model": ErrorResponse},
    }

    @router.get("/courses", response_model=CourseList, tags=["courses"])
    async def list_courses(
        session: SessionDep,
        knowledge: KnowledgeDep,
        org: Institution,
        q: str = "",
        region: str | None = None,
        near: Annotated[str | None, Query(description="a Dutch town")] = None,
        within_km: Annotated[float, Query(gt=0, le=300)] = 25.0,
        max_price_cents: Annotated[int | None, Query(ge=0)] = None,
        level: Annotated[list[Literal[LEVELS]] | None, Query()] = None,  # type: ignore[valid-type]
        format: Literal[FORMATS] | None = None,  # type: ignore[valid-type]
        start_before: date | None = None,
        skill: str | None = None,
        mine: bool = False,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> CourseList:
        """Search the whole catalogue (or only your own courses with `mine=true`)."""
        point = None
        if near:
            location = await knowledge.find_location(session, near)
            if location is None or location.lat is None or location.lon is None:
                raise HTTPException(422, f"unknown town for near: {near}")
            point = (location.lat, location.lon)
        query = SearchQuery(
            text=q,
            region=region,
            near=point,
            within_km=within_km,
            max_price_cents=max_price_cents,
            levels=tuple(level or ()),
            format=format,
            start_before=start_before,
            skill=skill,
            provider_id=org.id if mine else None,
        )
        result = await knowledge.search_courses(
            session, query, today=_today(), offset=offset, limit=limit
        )
        found = await courses_by_pk(session, [hit.course.pk for hit in result.hits])
        items = [
            course_out(found[hit.course.pk], hit.course.provider_name)
            for hit in result.hits
            if hit.course.pk in found
        ]
        return CourseList(total=result.total, offset=offset, limit=limit, items=items)

    @router.get(
        "/courses/{course_id}", response_model=CourseOut, tags=["courses"], responses=course_errors
    )
    async def read_course(session: SessionDep, org: Institution, course_id: str) -> CourseOut:
        """One of your own courses."""
        course = await get_course(session=session, provider_id=org.id, course_id=course_id)
        if course is None:
            raise HTTPException(404, f"you have no course {course_id}")
        return course_out(course, org.name)

    @router.put(
        "/courses/{course_id}", response_model=CourseOut, tags=["courses"], responses=course_errors
    )
    async def write_course(
        session: SessionDep,
        org: Institution,
        course_id: Annotated[str, Path(pattern=COURSE_ID_PATTERN)],
        body: CourseIn,
        response: Response,
    ) -> CourseOut:
        """Create or replace one of your courses (201 when new, 200 when replaced)."""
        try:
            course, created = await put_course(
                session=session,
                provider=org,
                course_id=course_id,
                data=body.model_dump(mode="json", exclude_unset=True),
            )
        except CourseDataError as exc:
            raise _data_error(exc) from None
        response.status_code = 201 if created else 200
        return course_out(course, org.name)

    @router.delete(
        "/courses/{course_id}", status_code=204, tags=["courses"], responses=course_errors
    )
    async def remove_course(session: SessionDep, org: Institution, course_id: str) -> Response:
        """Delete one of your courses."""
        if not await delete_course(session=session, provider_id=org.id, course_id=course_id):
            raise HTTPException(404, f"you have no course {course_id}")
        return Response(status_code=204)

    @router.post(
        "/courses/import",
        response_model=ImportResult,
        tags=["courses"],
        responses={415: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
    )
    async def import_file(
        request: Request,
        session: SessionDep,
        org: Institution,
        format: ImportFormat | None = None,
    ) -> ImportResult:
        """Import CSV, JSON or an OOAPI course page: all rows or, when one is wrong, none."""
        fmt = _format_of(request, format)
        payload = await request.body()
        if len(payload) > MAX_IMPORT_BYTES:
            raise HTTPException(413, "the file is larger than 10 MB")
        try:
            rows = parse(payload, fmt)
            report = await import_courses(
                session=session, provider=org, rows=rows, source=f"import:{fmt}"
            )
        except CourseDataError as exc:
            raise _data_error(exc) from None
        return ImportResult(created=report.created, updated=report.updated)

    @router.get("/regulations", response_model=RegulationList, tags=["regulations"])
    async def all_regulations(session: SessionDep, org: Admin) -> RegulationList:
        """Every regulation with its status today."""
        today = _today()
        return RegulationList(
            items=[regulation_out(r, today) for r in await list_regulations(session)]
        )

    @router.get(
        "/regulations/{slug}",
        response_model=RegulationOut,
        tags=["regulations"],
        responses={404: {"model": ErrorResponse}},
    )
    async def read_regulation(session: SessionDep, org: Admin, slug: str) -> RegulationOut:
        regulation = await get_regulation(session, slug)
        if regulation is None:
            raise HTTPException(404, f"no regulation {slug}")
        return regulation_out(regulation, _today())

    @router.put(
        "/regulations/{slug}",
        response_model=RegulationOut,
        tags=["regulations"],
        responses={422: {"model": ErrorResponse}},
    )
    async def write_regulation(
        session: SessionDep,
        org: Admin,
        slug: Annotated[str, Path(pattern=SLUG_PATTERN)],
        body: RegulationIn,
        response: Response,
    ) -> RegulationOut:
        """Create or replace a regulation (201 when new)."""
        try:
            regulation, created = await put_regulation(session=session, slug=slug, data=body)
        except RegulationProblem as exc:
            raise HTTPException(422, detail=[{"field": exc.field, "reason": exc.reason}]) from None
        response.status_code = 201 if created else 200
        return regulation_out(regulation, _today())

    @router.delete(
        "/regulations/{slug}",
        status_code=204,
        tags=["regulations"],
        responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}},
    )
    async def remove_regulation(session: SessionDep, org: Admin, slug: str) -> Response:
        try:
            deleted = await delete_regulation(session=session, slug=slug)
        except RegulationProblem as exc:
            raise HTTPException(409, exc.reason) from None
        if not deleted:
            raise HTTPException(404, f"no regulation {slug}")
        return Response(status_code=204)

    return router
