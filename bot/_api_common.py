"""What every API router shares: JSON errors, one session per request, bearer-token auth."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from bot._services import Services
from core.models import Organisation, OrgKind
from core.text_input import find_unsafe, unsafe_fields
from knowledge import Knowledge
from services import authenticate

# Ids are 32-bit integers in the database; a larger one can name nothing (422, not a 500).
MAX_ID = 2**31 - 1

_bearer = HTTPBearer(auto_error=False)


class ErrorBody(BaseModel):
    status: int
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


def error_response(
    status: int,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorResponse(error=ErrorBody(status=status, message=message, details=details))
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request; the transaction commits when the handler returns normally.
    A GET only reads: its transaction takes no write lock (on SQLite)."""
    services = services_of(request)
    sessions = services.read_sessions if request.method in ("GET", "HEAD") else services.sessions
    async with sessions() as session, session.begin():
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


def knowledge_of(request: Request) -> Knowledge:
    """The app's knowledge base (search index, places), shared by every request."""
    return services_of(request).knowledge


KnowledgeDep = Annotated[Knowledge, Depends(knowledge_of)]


async def current_organisation(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Organisation:
    """The organisation of the bearer token; 401 without a valid one."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    org = await authenticate(session=session, token=credentials.credentials)
    if org is None:
        raise HTTPException(401, "invalid bearer token", headers={"WWW-Authenticate": "Bearer"})
    return org


OrgDep = Annotated[Organisation, Depends(current_organisation)]


def require_kind(*kinds: OrgKind) -> Callable[[Organisation], Awaitable[Organisation]]:
    """A dependency that lets only organisations of these kinds through (403 otherwise)."""

    async def check(org: OrgDep) -> Organisation:
        check_kind(org, *kinds)
        return org

    return check


async def reject_unsafe_text(request: Request) -> None:
    """The input boundary of the API: no path, query or JSON text may hold U+0000 or another
    control character (PostgreSQL cannot store them); 422 names each field."""
    problems: list[dict[str, Any]] = []
    for name, value in request.path_params.items():
        problems += unsafe_fields(str(value), (f"path.{name}",))
    for name, value in request.query_params.multi_items():
        problems += unsafe_fields(value, (f"query.{name}",))
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method in ("POST", "PUT", "PATCH") and content_type:
        body = await request.body()
        if content_type.endswith("json"):
            try:
                decoded = json.loads(body) if body else None
            except (ValueError, UnicodeDecodeError):
                decoded = None  # FastAPI answers 400 for the body itself
            problems += unsafe_fields(decoded, ("body",)) if decoded is not None else []
        else:
            try:
                char = find_unsafe(body.decode("utf-8"))
            except UnicodeDecodeError:
                char = None
            if char is not None:
                problems.append(
                    {"field": "body", "reason": f"contains the control character {char}"}
                )
    if problems:
        raise HTTPException(422, detail=problems)


def check_kind(org: Organisation, *kinds: OrgKind) -> None:
    """403 unless the organisation is of one of these kinds (the API and the portal)."""
    if org.kind not in kinds:
        allowed = ", ".join(k.value for k in kinds)
        raise HTTPException(403, f"this endpoint is for organisations of kind: {allowed}")
