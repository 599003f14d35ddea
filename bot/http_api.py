"""The HTTP API (FastAPI): bearer-token auth against organisations, JSON errors, `/healthz`.

Later issues add routers for courses, regulations, teams and nudges under `/api/v1`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException as StarletteHTTPException

from actions import authenticate
from bot._services import Services
from core.models import Organisation, OrgKind

logger = logging.getLogger(__name__)

_bearer = HTTPBearer(auto_error=False)


class ErrorBody(BaseModel):
    status: int
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


class OrganisationOut(BaseModel):
    id: int
    name: str
    kind: OrgKind


class Health(BaseModel):
    status: str
    database: str


def _error(
    status: int,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorResponse(error=ErrorBody(status=status, message=message, details=details))
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request; the transaction commits when the handler returns normally."""
    async with _services(request).sessions() as session, session.begin():
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


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
        if org.kind not in kinds:
            allowed = ", ".join(k.value for k in kinds)
            raise HTTPException(403, f"this endpoint is for organisations of kind: {allowed}")
        return org

    return check


def create_api(
    services: Services,
    *,
    webhook: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
) -> FastAPI:
    """Build the FastAPI app; `webhook` receives verified Telegram updates when webhooks are on."""
    app = FastAPI(
        title="Leerloop API",
        version="1",
        description="Courses, regulations, teams and nudges for Leerloop.",
        responses={
            401: {"model": ErrorResponse},
            403: {"model": ErrorResponse},
            422: {"model": ErrorResponse},
        },
    )
    app.state.services = services

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(p) for p in err.get("loc", ())), "reason": err.get("msg", "")}
            for err in exc.errors()
        ]
        return _error(422, "the request is not valid", details)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.error("api: unexpected %s on %s", type(exc).__name__, request.url.path, exc_info=exc)
        return _error(500, "internal error")

    @app.get("/healthz", response_model=Health, tags=["health"])
    async def healthz(session: SessionDep) -> Health:
        """Liveness and database check."""
        await session.execute(text("SELECT 1"))
        return Health(status="ok", database="ok")

    v1 = APIRouter(prefix="/api/v1")

    @v1.get("/me", response_model=OrganisationOut, tags=["auth"])
    async def me(org: OrgDep) -> OrganisationOut:
        """The organisation the bearer token belongs to."""
        return OrganisationOut(id=org.id, name=org.name, kind=org.kind)

    app.include_router(v1)

    if webhook is not None:
        settings = services.settings
        assert settings.telegram_webhook_secret is not None
        expected = settings.telegram_webhook_secret.get_secret_value()

        @app.post("/telegram/webhook", include_in_schema=False)
        async def telegram_webhook(
            request: Request,
            secret: Annotated[str | None, Header(alias="X-Telegram-Bot-Api-Secret-Token")] = None,
        ) -> dict[str, bool]:
            if secret is None or not secrets.compare_digest(secret, expected):
                raise HTTPException(403, "wrong or missing secret token")
            data = await request.json()
            if not isinstance(data, dict):
                raise HTTPException(422, "an update is a JSON object")
            await webhook(data)
            return {"ok": True}

    return app
