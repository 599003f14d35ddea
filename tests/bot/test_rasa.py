"""Leerloop for a Rasa 3.6 assistant: `/model/parse`, the action server, the exported project.

The contracts are Rasa's own (`rasa/server.py`, `rasa/core/http_interpreter.py`,
`rasa/core/actions/action.py`, rasa-sdk's `endpoint.py`); these tests post what Rasa posts.
A real Rasa talking to Leerloop is `tests/e2e/test_rasa.py` (slow).
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from actions.formatting import euro
from bot import Services
from bot._interpreter import NluInterpreter
from bot.http_api import create_api
from bot.rasa import (
    ACTION_NAMES,
    CAPABILITY_ACTIONS,
    ExportOptions,
    NluMode,
    create_action_server,
    export_project,
    parse_slash,
)
from core.db import utcnow
from core.models import Channel, FundSource
from core.settings import Environment, Settings
from dialogues import DialogueManager, FlowSet
from nlu.intents import Intent
from services import get_or_create_user
from services.wallet import credit

pytestmark = pytest.mark.db
FUND_NAME = "Zorggroep Oost"


@pytest.fixture
def rasa_services(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    interpreter: NluInterpreter,
) -> Services:
    dialogue = DialogueManager(sessions=sessions, settings=settings, interpreter=interpreter)
    return Services(settings=settings, engine=engine, sessions=sessions, dialogue=dialogue)


async def _client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.fixture
async def api(rasa_services: Services) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(create_api(rasa_services)):
        yield client


@pytest.fixture
async def actions_server(rasa_services: Services) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(create_action_server(rasa_services)):
        yield client


def _with_token(services: Services, token: str) -> None:
    services.settings = services.settings.model_copy(update={"rasa_token": SecretStr(token)})


# ------------------------------------------------------------------------- /model/parse


async def test_model_parse_answers_rasas_shape_from_the_chats_model(
    api: httpx.AsyncClient, interpreter: NluInterpreter
) -> None:
    # What Rasa's RasaNLUHttpInterpreter posts.
    text = "ik zoek een cursus excel in Zwolle"
    body = {"text": text, "message_id": "anna", "token": None}
    response = await api.post("/model/parse", json=body)
    assert response.status_code == 200
    parsed = response.json()
    assert set(parsed) >= {"text", "intent", "intent_ranking", "entities", "text_tokens"}
    assert parsed["text"] == body["text"]
    assert parsed["intent"]["name"] == "find_course"
    own = await interpreter.parse(text)
    assert parsed["intent"] == own["intent"]
    assert {(e["entity"], e["value"]) for e in parsed["entities"]} >= {("location", "Zwolle")}
    assert parsed["text_tokens"][0] == [0, 2]


async def test_model_parse_reads_rasas_slash_syntax(api: httpx.AsyncClient) -> None:
    text = '/check_wallet@0.8{"amount": [100, 200]}'
    parsed = (await api.post("/model/parse", json={"text": text})).json()
    assert parsed["intent"] == {"name": "check_wallet", "confidence": 0.8}
    assert [e["value"] for e in parsed["entities"]] == [100, 200]
    assert parsed["entities"][0]["start"] == text.index("{")
    assert parse_slash("hoeveel budget heb ik?") is None


async def test_model_parse_cleans_text_like_a_chat_message(api: httpx.AsyncClient) -> None:
    dirty = await api.post("/model/parse", json={"text": "hoeveel\x00 budget\u200b heb  ik?"})
    clean = await api.post("/model/parse", json={"text": "hoeveel budget heb ik?"})
    assert dirty.status_code == clean.status_code == 200
    assert dirty.json()["text"] == "hoeveel budget heb ik?"
    assert dirty.json()["intent"] == clean.json()["intent"]
    document = (await api.get("/openapi.json")).json()
    body = document["paths"]["/model/parse"]["post"]["requestBody"]["content"]
    assert "pattern" not in str(body), "cleaned, so not refused: the document says no pattern"


async def test_model_parse_takes_the_token_by_query_or_body(
    api: httpx.AsyncClient, rasa_services: Services
) -> None:
    _with_token(rasa_services, "geheim")
    ok_body = await api.post("/model/parse", json={"text": "hoi", "token": "geheim"})
    ok_query = await api.post("/model/parse?token=geheim", json={"text": "hoi"})
    assert ok_body.status_code == ok_query.status_code == 200
    for bad in (
        await api.post("/model/parse", json={"text": "hoi"}),
        await api.post("/model/parse?token=fout", json={"text": "hoi"}),
    ):
        assert bad.status_code == 401
        error = bad.json()
        assert error["status"] == "failure"
        assert error["reason"] == "NotAuthenticated"
        assert error["code"] == 401
        assert set(error) == {"version", "status", "message", "reason", "details", "help", "code"}


async def test_model_parse_errors_have_rasas_shape(api: httpx.AsyncClient) -> None:
    empty = await api.post("/model/parse", content=b"")
    assert empty.status_code == 400
    assert empty.json()["reason"] == "BadRequest"
    no_text = await api.post("/model/parse", json={"message": "hoi"})
    assert no_text.status_code == 400
    assert no_text.json()["reason"] == "ParsingError"
    for wrong in ({"text": 12}, {"text": "hoi", "token": 5}, {"text": "hoi", "message_id": []}):
        answer = await api.post("/model/parse", json=wrong)
        assert answer.status_code == 400, wrong
        assert answer.json()["reason"] == "ParsingError"
    not_json = await api.post(
        "/model/parse", content=b"hoi", headers={"content-type": "text/plain"}
    )
    assert not_json.status_code == 400  # a client error (Rasa itself answers 500 here)
    assert not_json.json()["reason"] == "ParsingError"


async def test_production_without_a_token_refuses(
    api: httpx.AsyncClient, rasa_services: Services
) -> None:
    rasa_services.settings = rasa_services.settings.model_copy(
        update={"environment": Environment.PRODUCTION}
    )
    response = await api.post("/model/parse", json={"text": "hoi"})
    assert response.status_code == 401


# ------------------------------------------------------------------------- action server


def _call(
    action: str,
    sender: str,
    text: str,
    intent: str,
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """What Rasa 3.6's RemoteAction posts (`_action_call_format`), trimmed to what matters."""
    return {
        "next_action": action,
        "sender_id": sender,
        "tracker": {
            "sender_id": sender,
            "slots": slots or {},
            "latest_message": {
                "text": text,
                "intent": {"name": intent, "confidence": 0.97},
                "intent_ranking": [{"name": intent, "confidence": 0.97}],
                "entities": entities or [],
            },
            "events": [],
        },
        "domain": {},
        "version": "3.6.21",
    }


async def _fund(services: Services, sender: str, cents: int) -> None:
    async with services.sessions() as session, session.begin():
        user = await get_or_create_user(session=session, channel=Channel.RASA, external_id=sender)
        user.consent = True
        await credit(
            session=session,
            user=user,
            amount_cents=cents,
            source=FundSource.EMPLOYER,
            funder=FUND_NAME,
            expires_on=utcnow().date() + timedelta(days=200),
        )


async def test_wallet_balance_as_a_rasa_custom_action(
    actions_server: httpx.AsyncClient, rasa_services: Services
) -> None:
    await _fund(rasa_services, "rasa-anna", 123_400)
    call = _call("action_check_wallet", "rasa-anna", "hoeveel budget heb ik nog?", "check_wallet")
    response = await actions_server.post("/webhook", json=call)
    assert response.status_code == 200
    result = response.json()
    assert set(result) == {"events", "responses"}
    texts = " ".join(r["text"] or "" for r in result["responses"])
    assert euro(123_400) in texts
    buttons = [b for r in result["responses"] for b in r["buttons"]]
    assert buttons and all(b["payload"].startswith("/leerloop_button{") for b in buttons)
    slots = {e["name"]: e["value"] for e in result["events"] if e["event"] == "slot"}
    assert slots["leerloop_flow"] == "wallet.next"

    # The "Geschiedenis" button comes back as its payload: the history, and the flow ends.
    history = next(b for b in buttons if "history" in b["payload"])
    pressed = _call("action_leerloop", "rasa-anna", history["payload"], "leerloop_button", slots)
    result = (await actions_server.post("/webhook", json=pressed)).json()
    assert "Zorggroep Oost" in " ".join(r["text"] or "" for r in result["responses"])
    slots_after = {e["name"]: e["value"] for e in result["events"] if e["event"] == "slot"}
    assert slots_after["leerloop_flow"] is None


async def test_the_pinned_intent_wins_over_rasas_parse(
    actions_server: httpx.AsyncClient,
) -> None:
    # Rasa's own NLU (DIET) may rank it otherwise; the rule chose the regulation action.
    call = _call("action_ask_regulation", "rasa-bert", "bestaat STAP nog?", "inform")
    result = (await actions_server.post("/webhook", json=call)).json()
    text = " ".join(r["text"] or "" for r in result["responses"])
    assert "STAP" in text
    assert "bestaat niet meer" in text


async def test_course_search_returns_courses_from_the_catalogue(
    actions_server: httpx.AsyncClient, interpreter: NluInterpreter
) -> None:
    text = "ik zoek een cursus excel in Zwolle"
    entities = (await interpreter.parse(text))["entities"]  # Rasa passes its parse on
    call = _call("action_find_course", "rasa-cor", text, "find_course", entities=entities)
    result = (await actions_server.post("/webhook", json=call)).json()
    text = " ".join(r["text"] or "" for r in result["responses"])
    assert "Excel" in text


async def test_without_consent_nothing_personal_goes_back_to_rasa(
    actions_server: httpx.AsyncClient, rasa_services: Services
) -> None:
    flows = FlowSet.load()
    call = _call("action_find_course", "rasa-dirk", "ik zoek een cursus excel", "find_course")
    result = (await actions_server.post("/webhook", json=call)).json()
    for event in result["events"]:
        if event["event"] == "slot" and event["name"] in flows.slots:
            assert not flows.slots[event["name"]].personal, event["name"]


async def test_privacy_delete_resets_rasas_slots(actions_server: httpx.AsyncClient) -> None:
    sender = "rasa-eva"
    await actions_server.post(
        "/webhook", json=_call("action_check_wallet", sender, "mijn saldo", "check_wallet")
    )
    result = (
        await actions_server.post(
            "/webhook",
            json=_call("action_privacy_delete", sender, "wis al mijn gegevens", "privacy_delete"),
        )
    ).json()
    for _ in range(3):  # confirm with the button Leerloop offers, as a user would
        buttons = [b for r in result["responses"] for b in r["buttons"]]
        if not buttons:
            break
        yes = next(b for b in buttons if "yes" in b["payload"] or "ja" in b["title"].lower())
        result = (
            await actions_server.post(
                "/webhook", json=_call("action_leerloop", sender, yes["payload"], "leerloop_button")
            )
        ).json()
    assert {"event": "reset_slots", "timestamp": None} in result["events"]


async def _post(client: httpx.AsyncClient, call: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/webhook", json=call)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _press(result: dict[str, Any], sender: str, contains: str) -> dict[str, Any]:
    """The call Rasa makes when the user taps the button whose payload holds `contains`."""
    payload = next(
        b["payload"] for r in result["responses"] for b in r["buttons"] if contains in b["payload"]
    )
    return _call("action_leerloop", sender, payload, "leerloop_button")


async def test_advisor_referral_asks_the_place_and_names_the_loket(
    actions_server: httpx.AsyncClient,
) -> None:
    sender = "rasa-gijs"
    asked = await _post(
        actions_server,
        _call("action_request_advisor", sender, "ik wil een adviseur spreken", "request_advisor"),
    )
    slots = {e["name"]: e["value"] for e in asked["events"] if e["event"] == "slot"}
    assert slots["leerloop_flow"] == "request_advisor.ask_place"
    # Rasa's rules send a typed place (intent inform) to action_leerloop: it is the answer.
    answered = await _post(actions_server, _call("action_leerloop", sender, "Utrecht", "inform"))
    assert "Leerwerkloket" in " ".join(r["text"] or "" for r in answered["responses"])


async def test_a_reminder_waits_for_consent_first(
    actions_server: httpx.AsyncClient, rasa_services: Services
) -> None:
    sender = "rasa-hans"
    text = "herinner me elke maandag om 9 uur"
    first = await _post(actions_server, _call("action_set_reminder", sender, text, "set_reminder"))
    assert "privacy" in " ".join(r["text"] or "" for r in first["responses"]).lower()
    after = await _post(actions_server, _press(first, sender, "consent.ask:agree"))
    assert after["responses"]
    async with rasa_services.sessions() as session:
        user = await get_or_create_user(session=session, channel=Channel.RASA, external_id=sender)
        assert user.consent


async def test_privacy_export_arrives_as_a_file(
    actions_server: httpx.AsyncClient, rasa_services: Services
) -> None:
    sender = "rasa-ina"
    await _fund(rasa_services, sender, 50_000)
    overview = await _post(
        actions_server,
        _call("action_privacy_export", sender, "welke gegevens hebben jullie", "privacy_export"),
    )
    exported = await _post(actions_server, _press(overview, sender, "privacy.choose:export"))
    files = [r["custom"]["leerloop_file"] for r in exported["responses"] if r["custom"]]
    assert len(files) == 1
    content = json.loads(base64.b64decode(files[0]["content_base64"]))
    assert FUND_NAME in json.dumps(content, ensure_ascii=False)


async def test_unknown_action_is_rasa_sdks_404(actions_server: httpx.AsyncClient) -> None:
    response = await actions_server.post("/webhook", json=_call("action_nope", "x", "hoi", "greet"))
    assert response.status_code == 404
    assert response.json() == {
        "error": "No registered action found for name 'action_nope'.",
        "action_name": "action_nope",
    }
    listed = (await actions_server.get("/actions")).json()
    assert [a["name"] for a in listed] == list(ACTION_NAMES)
    assert (await actions_server.get("/health")).json() == {"status": "ok"}


async def test_webhook_asks_the_token_when_one_is_set(
    actions_server: httpx.AsyncClient, rasa_services: Services
) -> None:
    _with_token(rasa_services, "geheim")
    call = _call("action_leerloop", "rasa-fien", "hoi", "greet")
    assert (await actions_server.post("/webhook", json=call)).status_code == 401
    assert (await actions_server.post("/webhook?token=geheim", json=call)).status_code == 200


# ------------------------------------------------------------------------- export


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_export_writes_a_rasa_project_from_leerloops_data(tmp_path: Path) -> None:
    export_project(tmp_path, ExportOptions(nlu_url="http://leerloop:8080"))
    domain = _load(tmp_path / "domain.yml")
    assert set(domain["intents"]) >= {i.value for i in Intent if i is not Intent.NLU_FALLBACK}
    assert domain["actions"] == list(ACTION_NAMES)
    assert set(FlowSet.load().slots) <= set(domain["slots"])
    assert domain["responses"]["utter_welcome"][0]["text"].startswith("Hoi!")
    rules = _load(tmp_path / "data" / "rules.yml")["rules"]
    routed = {r["steps"][0]["intent"]: r["steps"][1]["action"] for r in rules}
    for action, intent in CAPABILITY_ACTIONS.items():
        assert routed[intent.value] == action
    assert routed["nlu_fallback"] == "action_leerloop"
    endpoints = _load(tmp_path / "endpoints.yml")
    assert endpoints["nlu"] == {"url": "http://leerloop:8080"}
    assert endpoints["action_endpoint"]["url"].endswith("/webhook")
    config = _load(tmp_path / "config.yml")
    assert config["pipeline"] == []
    assert not (tmp_path / "data" / "nlu.yml").exists()


def test_export_for_diet_brings_leerloops_training_data(tmp_path: Path) -> None:
    export_project(tmp_path, ExportOptions(nlu=NluMode.DIET, epochs=7))
    config = _load(tmp_path / "config.yml")
    diet = next(c for c in config["pipeline"] if c["name"] == "DIETClassifier")
    assert diet["epochs"] == 7
    assert "nlu" not in _load(tmp_path / "endpoints.yml")
    data = _load(tmp_path / "data" / "nlu.yml")
    intents = {block["intent"] for block in data["nlu"] if "intent" in block}
    assert intents >= {"check_wallet", "find_course", "ask_regulation"}
    assert json.dumps(data, ensure_ascii=False).count("(location)") > 10
