"""The HTTP API (FastAPI): bearer-token auth against organisations, JSON errors, `/healthz`
(alive, database reachable), `/readyz` (takes work: a load balancer's check),
and the routers under `/api/v1` (courses and regulations; teams and nudges follow).
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot._api_common import (
    ErrorResponse,
    OrgDep,
    SessionDep,
    error_response,
    reject_unsafe_text,
)
from bot._api_knowledge import knowledge_router
from bot._api_teams import teams_router
from bot._services import Services
from bot.portal import is_portal_request, mount_portal, portal_error_page
from bot.rasa import nlu_router
from core.models import OrgKind
from core.text_input import SAFE_TEXT_PATTERN, TEXT_CLEANED

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
            400: {"model": ErrorResponse, "description": "the body is not valid JSON"},
            401: {"model": ErrorResponse},
            403: {"model": ErrorResponse},
            422: {"model": ErrorResponse},
        },
    )
    app.state.services = services

    def allowed_methods(request: Request) -> str:
        """Every method the document lists for this path (Starlette names only one route's)."""
        path = request.url.path
        paths = app.openapi().get("paths", {})
        if path in paths:  # a literal path wins over templates (/courses/import)
            return ", ".join(sorted(m.upper() for m in paths[path]))
        methods: set[str] = set()
        for template, operations in paths.items():
            if re.fullmatch(re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)), path):
                methods |= {m.upper() for m in operations}
        return ", ".join(sorted(methods))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        headers = getattr(exc, "headers", None)
        if is_portal_request(request):  # people read the portal: a page, not JSON
            return portal_error_page(request, exc.status_code)
        if exc.status_code == 405:  # every method of the path, not only the first route's
            headers = {**(headers or {}), "Allow": allowed_methods(request)}
        if isinstance(exc.detail, list):  # field-level problems found by our own validation
            return error_response(
                exc.status_code, "the request is not valid", exc.detail, headers=headers
            )
        return error_response(exc.status_code, str(exc.detail), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        if is_portal_request(request):
            return portal_error_page(request, 422)
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

    v1 = APIRouter(prefix="/api/v1", dependencies=[Depends(reject_unsafe_text)])

    @v1.get("/me", response_model=OrganisationOut, tags=["auth"])
    async def me(org: OrgDep) -> OrganisationOut:
        """The organisation the bearer token belongs to."""
        return OrganisationOut(id=org.id, name=org.name, kind=org.kind)

    v1.include_router(knowledge_router())
    v1.include_router(teams_router())
    app.include_router(v1)
    mount_portal(app)
    app.include_router(nlu_router())  # Rasa's NLU server contract (bot/rasa/)

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
            # Telegram retries a 5xx for a day: a body that can never be an update is a 400.
            try:
                data = await request.json()
            except (ValueError, UnicodeDecodeError):
                raise HTTPException(400, "the body is not JSON") from None
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise HTTPException(400, "an update is a JSON object with an integer update_id")
            # Stored (once per update_id) before Telegram hears 200; handled from the inbox.
            try:
                await webhook(data)
            except ValueError:
                raise HTTPException(400, "the body is not a Telegram update") from None
            return {"ok": True}

    def openapi() -> dict[str, Any]:
        """The generated document, plus the text rule every input string follows."""
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            _mark_safe_text(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _mark_safe_text(document: dict[str, Any]) -> None:
    """Put SAFE_TEXT_PATTERN on every string a client sends (parameters and request bodies)
    that has no pattern, format or enum of its own, so the document says what is refused.
    Operations marked TEXT_CLEANED (Rasa's `/model/parse`) clean their text instead."""
    components = document.get("components", {}).get("schemas", {})
    seen: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                visit(item)
            return
        if not isinstance(node, dict):
            return
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[1]
            if name not in seen and name in components:
                seen.add(name)
                visit(components[name])
            return
        if (
            node.get("type") == "string"
            and not {"pattern", "format", "enum", "const"} & node.keys()
        ):
            node["pattern"] = SAFE_TEXT_PATTERN
        for key, value in node.items():
            if key not in ("example", "examples", "default", "description", "title"):
                visit(value)

    for path in document.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict) or operation.get(TEXT_CLEANED):
                continue
            for parameter in operation.get("parameters", []):
                visit(parameter.get("schema"))
            for media in operation.get("requestBody", {}).get("content", {}).values():
                visit(media.get("schema"))
