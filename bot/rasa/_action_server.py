"""Leerloop as a Rasa action server: `POST /webhook` as rasa-sdk answers it.

Rasa 3.6 runs a custom action by posting `{"next_action", "sender_id", "tracker", "domain",
"version"}` to the `action_endpoint` and expects `{"events": [...], "responses": [...]}`; an
unknown action is a 404 `{"error", "action_name"}` (rasa-sdk's `endpoint.py`). rasa-sdk itself is
not used: it would pin pydantic and multidict below what Leerloop runs on, and the contract is
three JSON shapes.

Every action hands the user's latest message to the same `DialogueManager` the Telegram and
console channels use (channel `rasa`, the sender id as the chat id), with the intent Rasa
decided: the capability actions (`action_check_wallet`, ...) pin their intent, `action_leerloop`
keeps Rasa's parse. So flows, consent, texts (`dialogues/responses*.yml`) and buttons are
Leerloop's own; buttons become Rasa buttons whose payload (`/leerloop_button{...}`) comes back
as the button press; the slots the flows keep come back as `slot` events.
"""

from __future__ import annotations

import base64
import contextvars
import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from bot._services import Services
from bot.rasa._nlu_server import RasaError, check_token, nlu_router, parse_slash
from core.models import Channel
from dialogues import (
    AttachmentKind,
    ChooseIntent,
    DialogueManager,
    FlowSet,
    IncomingMessage,
    Interpreter,
    Reply,
    SlotType,
    Understanding,
    encode,
    load_state,
)
from nlu.intents import Intent
from services import find_user

logger = logging.getLogger(__name__)

GENERIC_ACTION = "action_leerloop"
BUTTON_INTENT = "leerloop_button"
BUTTON_ENTITY = "leerloop_payload"
FLOW_SLOT = "leerloop_flow"  # the flow (and step) Leerloop waits in, for a team's own stories
MAX_EXTERNAL_ID = 64  # users.external_id

# The Rasa custom actions for Leerloop's capabilities, each with the intent it stands for.
CAPABILITY_ACTIONS: dict[str, Intent] = {
    "action_check_wallet": Intent.CHECK_WALLET,
    "action_wallet_history": Intent.WALLET_HISTORY,
    "action_find_course": Intent.FIND_COURSE,
    "action_enroll_course": Intent.ENROLL_COURSE,
    "action_ask_regulation": Intent.ASK_REGULATION,
    "action_set_reminder": Intent.SET_REMINDER,
    "action_stop_nudges": Intent.STOP_NUDGES,
    "action_request_advisor": Intent.REQUEST_ADVISOR,
    "action_privacy_export": Intent.PRIVACY_EXPORT,
    "action_privacy_delete": Intent.PRIVACY_DELETE,
}
ACTION_NAMES: tuple[str, ...] = (GENERIC_ACTION, *CAPABILITY_ACTIONS)

# Leerloop slot types as Rasa slot types (domain.yml).
RASA_SLOT_TYPES: dict[SlotType, str] = {
    SlotType.TEXT: "text",
    SlotType.STR: "text",
    SlotType.BOOL: "bool",
    SlotType.INT: "float",
    SlotType.LIST: "list",
    SlotType.DICT: "any",
    SlotType.ANY: "any",
}


def rasa_slot_types(flows: FlowSet) -> dict[str, str]:
    """Every slot the flows declare, as Rasa slot types (plus `leerloop_flow`)."""
    types = {name: RASA_SLOT_TYPES[spec.type] for name, spec in flows.slots.items()}
    types[FLOW_SLOT] = "text"
    return dict(sorted(types.items()))


@dataclass(frozen=True)
class _Heard:
    text: str
    understanding: Understanding


_HEARD: contextvars.ContextVar[_Heard | None] = contextvars.ContextVar("rasa_heard", default=None)


class RasaTurnInterpreter:
    """The interpreter of the action server's dialogue manager: for the message Rasa sent,
    Rasa's understanding; for any other text (an earlier message), the chat's own model."""

    def __init__(self, fallback: Interpreter | None) -> None:
        self.fallback = fallback

    async def understand(self, text: str, now: datetime | None = None) -> Understanding:
        heard = _HEARD.get()
        if heard is not None and text and heard.text.strip().endswith(text.strip()):
            return heard.understanding  # the whole message, or its part after a greeting
        if self.fallback is None:
            return Understanding(Intent.NLU_FALLBACK.value, 0.0)
        return await self.fallback.understand(text, now)

    async def parse(self, text: str, now: datetime | None = None) -> dict[str, Any]:
        parse = getattr(self.fallback, "parse", None)
        if parse is None:
            raise RasaError(HTTPStatus.CONFLICT, "NoAgent", "No agent loaded.")
        result: dict[str, Any] = await parse(text, now)
        return result


def external_id(sender_id: str) -> str:
    """Rasa's sender id as a Leerloop chat id (a long one is hashed to fit)."""
    if len(sender_id) <= MAX_EXTERNAL_ID:
        return sender_id
    return "sha256:" + hashlib.sha256(sender_id.encode()).hexdigest()[: MAX_EXTERNAL_ID - 7]


def button_payload(payload: str) -> str:
    """A Leerloop button payload as a Rasa button payload (slash syntax, any NLU reads it)."""
    return "/" + BUTTON_INTENT + json.dumps({BUTTON_ENTITY: payload}, ensure_ascii=False)


def _understanding(latest: Mapping[str, Any], pinned: Intent | None) -> Understanding:
    intent = latest.get("intent") or {}
    ranking = tuple(
        (str(r.get("name")), float(r.get("confidence") or 0.0))
        for r in latest.get("intent_ranking") or []
        if isinstance(r, dict) and r.get("name")
    )
    entities = tuple(e for e in latest.get("entities") or [] if isinstance(e, dict))
    if pinned is not None:  # Rasa chose this capability: that is what was meant
        return Understanding(pinned.value, 1.0, ranking, entities)
    name = str(intent.get("name") or Intent.NLU_FALLBACK.value)
    return Understanding(name, float(intent.get("confidence") or 0.0), ranking, entities)


def _incoming(sender: str, text: str, latest: Mapping[str, Any]) -> IncomingMessage:
    """The user's latest message as Leerloop's neutral message: a button press, or text."""
    slash = parse_slash(text)
    payload: str | None = None
    if slash is not None:
        name = slash["intent"]["name"]
        if name == BUTTON_INTENT:
            for entity in slash["entities"] or latest.get("entities") or []:
                if entity.get("entity") == BUTTON_ENTITY and isinstance(entity.get("value"), str):
                    payload = entity["value"]
            payload = payload or ""  # a button without a payload is a stale one
        elif name in {i.value for i in Intent}:
            payload = encode(ChooseIntent(name))  # a Rasa button `/check_wallet`
    if payload is not None:
        return IncomingMessage(channel=Channel.RASA, external_id=sender, payload=payload)
    return IncomingMessage(channel=Channel.RASA, external_id=sender, text=text)


def rasa_message(reply: Reply) -> dict[str, Any]:
    """One Leerloop reply as a rasa-sdk `utter_message` dict."""
    message: dict[str, Any] = {
        "text": reply.text or None,
        "buttons": [
            {"title": b.label, "payload": button_payload(b.payload)} for b in reply.buttons
        ],
        "elements": [],
        "custom": {},
        "template": None,
        "response": None,
        "image": None,
        "attachment": None,
    }
    attachment = reply.attachment
    if attachment is not None:
        content = base64.b64encode(attachment.content).decode("ascii")
        if attachment.kind is AttachmentKind.PHOTO:
            message["image"] = f"data:{attachment.mime_type};base64,{content}"
        else:
            message["custom"] = {
                "leerloop_file": {
                    "filename": attachment.filename,
                    "mime_type": attachment.mime_type,
                    "content_base64": content,
                }
            }
    return message


class RasaActions:
    """Runs Leerloop's capabilities as Rasa custom actions."""

    def __init__(self, services: Services) -> None:
        self.services = services
        chat = services.dialogue
        self.dialogue = DialogueManager(
            sessions=chat.sessions,
            settings=chat.settings,
            flows=chat.flows,
            responses=chat.responses,
            interpreter=RasaTurnInterpreter(chat.interpreter),
            actions=chat.actions,
            clock=chat.clock,
        )

    def slot_types(self) -> dict[str, str]:
        return rasa_slot_types(self.dialogue.flows)

    async def run(self, call: Mapping[str, Any]) -> dict[str, Any]:
        """Run `next_action` for the tracker in `call`; Rasa's webhook answer."""
        name = call.get("next_action")
        if name not in ACTION_NAMES:
            raise ActionNotFound(str(name))
        tracker = call.get("tracker") or {}
        sender = external_id(str(call.get("sender_id") or tracker.get("sender_id") or ""))
        if not sender:
            raise ActionRejected(str(name), "the call has no sender_id")
        latest = tracker.get("latest_message") or {}
        text = str(latest.get("text") or "")
        message = _incoming(sender, text, latest)
        heard = _Heard(text, _understanding(latest, CAPABILITY_ACTIONS.get(str(name))))
        reset = _HEARD.set(heard)
        try:
            replies = await self.dialogue.handle(message)
        finally:
            _HEARD.reset(reset)
        events = await self._slot_events(sender, tracker.get("slots") or {})
        return {"events": events, "responses": [rasa_message(r) for r in replies]}

    async def _slot_events(self, sender: str, known: Mapping[str, Any]) -> list[dict[str, Any]]:
        """`slot` events for what changed in Leerloop's slots (kept only as consent allows);
        `reset_slots` when the user's data is gone."""
        async with self.services.sessions() as session:
            user = await find_user(session=session, channel=Channel.RASA, external_id=sender)
            if user is None:  # deleted: Rasa forgets the slots too
                return [{"event": "reset_slots", "timestamp": None}]
            state = await load_state(session, user.id)
        values: dict[str, Any] = dict.fromkeys(self.slot_types())
        values.update({k: v for k, v in state.slots.items() if k in values})
        top = state.top
        values[FLOW_SLOT] = f"{top.flow}.{top.step}" if top is not None and top.waiting else None
        return [
            {"event": "slot", "timestamp": None, "name": name, "value": value}
            for name, value in values.items()
            if known.get(name) != value
        ]


class ActionNotFound(Exception):
    def __init__(self, action_name: str) -> None:
        super().__init__(f"No registered action found for name '{action_name}'.")
        self.action_name = action_name


class ActionRejected(Exception):
    def __init__(self, action_name: str, message: str) -> None:
        super().__init__(message)
        self.action_name = action_name


def create_action_server(services: Services) -> FastAPI:
    """The app `leerloop rasa actions` serves: `/webhook`, `/actions`, `/health` (rasa-sdk's
    routes) and `/model/parse`, so one process can be both of Rasa's endpoints."""
    app = FastAPI(title="Leerloop for Rasa", version="1", docs_url=None, redoc_url=None)
    app.state.services = services
    actions = RasaActions(services)
    app.state.rasa_actions = actions

    def _error(status: int, body: dict[str, Any]) -> JSONResponse:
        return JSONResponse(body, status_code=status)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/actions")
    async def list_actions() -> list[dict[str, str]]:
        return [{"name": name} for name in ACTION_NAMES]

    @app.post("/webhook")
    async def webhook(request: Request) -> JSONResponse:
        token = request.query_params.get("token")
        try:
            check_token(services.settings, token)
        except RasaError as error:
            return error.response()
        try:
            call = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError):
            call = None
        if not isinstance(call, dict):
            return _error(400, {"error": "Invalid body request"})
        try:
            return JSONResponse(await actions.run(call))
        except ActionNotFound as exc:
            logger.warning("rasa: unknown action %s", exc.action_name)
            return _error(404, {"error": str(exc), "action_name": exc.action_name})
        except ActionRejected as exc:
            return _error(400, {"error": str(exc), "action_name": exc.action_name})
        except Exception as exc:
            logger.error("rasa: action failed with %s", type(exc).__name__, exc_info=exc)
            return _error(500, {"error": type(exc).__name__, "request_body": None})

    app.include_router(nlu_router())
    return app
