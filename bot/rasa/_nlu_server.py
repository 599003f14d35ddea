"""Leerloop as a Rasa NLU server: `POST /model/parse` exactly as `rasa run --enable-api` has it.

Rasa 3.6 with `endpoints.yml` `nlu: url: http://leerloop:8080` posts
`{"text", "message_id", "token"}` to `{url}/model/parse` (`rasa/core/http_interpreter.py`) and
takes the JSON as its parse result. The token is accepted the way Rasa's own server takes it
(`?token=`) and the way Rasa's HTTP interpreter sends it (in the body). Errors have the shape of
Rasa's `ErrorResponse`: `{"version", "status": "failure", "message", "reason", "details",
"help", "code"}`. Rasa's slash syntax (`/intent{"entity": "value"}`, what Rasa buttons send) is
parsed as Rasa's `RegexMessageHandler` does; everything else by the chat's own model.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import datetime
from http import HTTPStatus
from typing import Any, Protocol, runtime_checkable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from bot._services import Services
from core.settings import Environment, Settings
from core.text_input import TEXT_CLEANED, clean_chat_text

RASA_VERSION = "3.6.21"  # the Rasa Open Source release whose contracts these are
HELP_SECURITY = (
    "https://rasa.com/docs/rasa/user-guide/configuring-http-api/#security-considerations"
)
# Rasa's `rasa/shared/nlu/constants.py` / `regex_message_handler.py`.
_SLASH = re.compile(
    r"^/(?P<intent>[^{@]+)(?P<confidence>@[0-9.]+)?(?P<entities>{.+})?(?P<rest>.*)$", re.DOTALL
)
_TOKEN = re.compile(r"\w+|[^\w\s]")


@runtime_checkable
class Parser(Protocol):
    async def parse(self, text: str, now: datetime | None = None) -> dict[str, Any]: ...


class ParseIn(BaseModel):
    """What Rasa sends to `/model/parse` (read by hand, as Rasa does, for its error answers)."""

    text: str
    message_id: str | None = None
    token: str | None = None


class RasaErrorOut(BaseModel):
    """`rasa.server.ErrorResponse` as JSON."""

    version: str
    status: str
    message: str
    reason: str
    details: dict[str, Any]
    help: str | None
    code: int


class RasaError(Exception):
    """An error as Rasa's HTTP API reports it (`rasa.server.ErrorResponse`)."""

    def __init__(
        self,
        status: HTTPStatus,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
        help_url: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = {
            "version": RASA_VERSION,
            "status": "failure",
            "message": message,
            "reason": reason,
            "details": details or {},
            "help": help_url,
            "code": int(status),
        }

    def response(self) -> JSONResponse:
        return JSONResponse(self.body, status_code=int(self.status))


def check_token(settings: Settings, provided: str | None) -> None:
    """Rasa's `requires_auth`: with a token set, the right one or 401 (missing and wrong alike,
    as Rasa answers); without one, open — except in production, where an unset `RASA_TOKEN`
    refuses everyone."""
    expected = settings.rasa_token.get_secret_value() if settings.rasa_token else None
    if expected is None and settings.environment is not Environment.PRODUCTION:
        return
    if (
        expected is not None
        and provided is not None
        and secrets.compare_digest(provided.encode(), expected.encode())
    ):
        return
    raise RasaError(
        HTTPStatus.UNAUTHORIZED,
        "NotAuthenticated",
        "User is not authenticated.",
        help_url=HELP_SECURITY,
    )


def text_tokens(text: str) -> list[list[int]]:
    """Token spans, as Rasa adds them (`text_tokens`)."""
    return [[m.start(), m.end()] for m in _TOKEN.finditer(text)]


def parse_slash(text: str) -> dict[str, Any] | None:
    """`/intent@0.9{"entity": "value"}` parsed as Rasa's `RegexMessageHandler` does; None
    for ordinary text."""
    match = _SLASH.match(text.strip())
    if match is None:
        return None
    intent = match["intent"].strip()
    confidence = 1.0
    if match["confidence"]:
        try:
            confidence = max(0.0, min(1.0, float(match["confidence"][1:])))
        except ValueError:
            confidence = 1.0
    entities: list[dict[str, Any]] = []
    if match["entities"]:
        try:
            given = json.loads(match["entities"])
        except json.JSONDecodeError:
            given = None
        if isinstance(given, dict):
            start, end = match.start("entities"), match.end("entities")
            for name, value in given.items():
                for one in value if isinstance(value, list) else [value]:
                    entities.append(
                        {
                            "entity": name,
                            "start": start,
                            "end": end,
                            "value": one,
                            "extractor": "RegexMessageHandler",
                        }
                    )
    ranked = {"name": intent, "confidence": confidence}
    return {
        "text": text,
        "intent": ranked,
        "intent_ranking": [ranked],
        "entities": entities,
    }


async def parse_message(parser: Parser, text: str, now: datetime | None) -> dict[str, Any]:
    """What Rasa's `/model/parse` answers for `text`."""
    result = parse_slash(text) or dict(await parser.parse(text, now))
    result["text"] = text
    result.setdefault("entities", [])
    result["text_tokens"] = text_tokens(text)
    return result


def nlu_router() -> APIRouter:
    """`POST /model/parse`, backed by the chat's own NLU model."""
    router = APIRouter(tags=["rasa"])

    error = {"model": RasaErrorOut, "description": "Rasa's error shape"}

    @router.post(
        "/model/parse",
        summary="Parse a message (Rasa's NLU server contract)",
        responses={
            200: {"description": "Rasa's parse result: text, intent, intent_ranking, entities"},
            400: error,
            401: error,
            403: error,
            409: error,
        },
        openapi_extra={
            # The text is cleaned like every chat message, not refused: no string pattern.
            TEXT_CLEANED: True,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": ParseIn.model_json_schema()}},
            },
        },
    )
    async def model_parse(request: Request) -> JSONResponse:
        """Rasa's `/model/parse`: body `{"text", "message_id"?, "token"?}`, token also as
        `?token=`; answers Rasa's parse result."""
        services: Services = request.app.state.services
        raw = await request.body()
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                body = None
        token = request.query_params.get("token")
        if token is None and isinstance(body, dict) and isinstance(body.get("token"), str):
            token = body["token"]
        try:
            check_token(services.settings, token)
            if not raw:
                raise RasaError(
                    HTTPStatus.BAD_REQUEST,
                    "BadRequest",
                    "No text message defined in request_body. Add text message to request "
                    "body in order to obtain the intent and extracted entities.",
                )
            if not isinstance(body, dict):  # Rasa answers 500 here; a client error is a 400
                raise RasaError(
                    HTTPStatus.BAD_REQUEST,
                    "ParsingError",
                    "An unexpected error occurred. Error: the body is not a JSON object",
                )
            try:
                parse_in = ParseIn.model_validate(body, strict=True)
            except ValidationError as invalid:
                fields = ", ".join(
                    sorted({".".join(map(str, e["loc"])) or "body" for e in invalid.errors()})
                )
                raise RasaError(
                    HTTPStatus.BAD_REQUEST,
                    "ParsingError",
                    f"An unexpected error occurred. Error: the body's {fields} is not as "
                    "documented ('text' a string; 'message_id' and 'token' strings or null)",
                ) from None
            parser = services.dialogue.interpreter
            if not isinstance(parser, Parser):
                raise RasaError(
                    HTTPStatus.CONFLICT,
                    "NoAgent",
                    "No agent loaded. To continue processing, a model of a trained agent "
                    "needs to be loaded.",
                )
            now = datetime.now(services.settings.tz)
            text = clean_chat_text(parse_in.text).text
            return JSONResponse(await parse_message(parser, text, now))
        except RasaError as error:
            return error.response()

    return router
