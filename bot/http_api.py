"""The HTTP API (FastAPI): bearer-token auth against organisations, JSON errors, `/healthz`
(alive, database reachable), `/readyz` (takes work: a load balancer's check),
and the routers under `/api/v1` (courses and regulations; teams and nudges follow).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot._api_common import ErrorResponse, OrgDep, SessionDep, error_response
from bot._api_knowledge import knowledge_router
from bot._api_teams import teams_router
from bot._services import Services
from core.models import OrgKind

logger = logging.getLogger(__name__)


class OrganisationOut(BaseModel):
    id: int
    name: str
    kind: OrgKind


class Health(BaseModel):
    status: str
    database: str


class Readiness(BaseModel):
    status: str
    database: str
    telegram: str


def create_api(
    services: Services,
    *,
    webhook: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
    ready: Callable[[], str] | None = None,
) -> FastAPI:
    """Build the FastAPI app; `webhook` stores verified Telegram updates when webhooks are on;
    `ready` says whether this process takes work ("ready", "starting", "draining")."""
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
        headers = getattr(exc, "headers", None)
        if isinstance(exc.detail, list):  # field-level problems found by our own validation
            return error_response(
                exc.status_code, "the request is not valid", exc.detail, headers=headers
            )
        return error_response(exc.status_code, str(exc.detail), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(p) for p in err.get("loc", ())), "reason": err.get("msg", "")}
            for err in exc.errors()
        ]
        return error_response(422, "the request is not valid", details)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.error("api: unexpected %s on %s", type(exc).__name__, request.url.path, exc_info=exc)
        return error_response(500, "internal error")

    @app.get("/healthz", response_model=Health, tags=["health"])
    async def healthz(session: SessionDep) -> Health:
        """Liveness and database check."""
        await session.execute(text("SELECT 1"))
        return Health(status="ok", database="ok")

    @app.get(
        "/readyz",
        response_model=Readiness,
        tags=["health"],
        responses={503: {"model": Readiness}},
    )
    async def readyz(session: SessionDep) -> Readiness | JSONResponse:
        """Readiness for a load balancer: 200 while this process takes updates; 503 while it
        starts or drains after SIGTERM (send new updates elsewhere)."""
        await session.execute(text("SELECT 1"))
        state = ready() if ready is not None else "ready"
        body = Readiness(status=state, database="ok", telegram=state)
        if state != "ready":
            return JSONResponse(body.model_dump(), status_code=503)
        return body

    v1 = APIRouter(prefix="/api/v1")

    @v1.get("/me", response_model=OrganisationOut, tags=["auth"])
    async def me(org: OrgDep) -> OrganisationOut:
        """The organisation the bearer token belongs to."""
        return OrganisationOut(id=org.id, name=org.name, kind=org.kind)

    v1.include_router(knowledge_router())
    v1.include_router(teams_router())
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
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise HTTPException(422, "an update is a JSON object with an update_id")
            # Stored (once per update_id) before Telegram hears 200; handled from the inbox.
            await webhook(data)
            return {"ok": True}

    return app
