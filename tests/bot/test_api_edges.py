"""The API's edges: control characters, id ranges, reused idempotency keys, malformed webhook
bodies, the team and member lists, the Allow header, and an OpenAPI document that says so."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from pydantic import SecretStr

from bot import Services
from bot.http_api import create_api
from core.models import OrgKind
from core.text_input import SAFE_TEXT_PATTERN
from tests.bot.conftest import token_for
from tests.bot.test_api_teams import _auth, _credit, _members, _team

pytestmark = pytest.mark.db


@pytest.fixture
async def employer(services: Services) -> dict[str, str]:
    return _auth(await token_for(services, OrgKind.EMPLOYER, "Bakkerij Jansen"))


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85"])
async def test_control_characters_are_a_precise_422(
    client: httpx.AsyncClient, services: Services, employer: dict[str, str], char: str
) -> None:
    team = await _team(client, employer)
    url = f"/api/v1/teams/{team['team_id']}"
    cases = [
        ("post", "/api/v1/teams", {"name": f"Bak{char}kers"}, "body.name"),
        ("post", f"{url}/nudges", {"text": f"Hoi{char}"}, "body.text"),
        ("post", f"{url}/credits", _credit(f"k{char}"), "body.idempotency_key"),
        (
            "post",
            f"{url}/credits",
            _credit("k1", earmark={"topics": [f"vca{char}"]}),
            "body.earmark.topics.0",
        ),
    ]
    for method, path, body, field in cases:
        response = await client.request(method, path, json=body, headers=employer)
        assert response.status_code == 422, (path, response.text)
        [detail] = response.json()["error"]["details"]
        assert detail["field"] == field
        assert f"U+{ord(char):04X}" in detail["reason"]
    institution = _auth(await token_for(services, OrgKind.INSTITUTION))
    course = await client.put(
        "/api/v1/courses/x-1", json={"title": f"Excel{char}"}, headers=institution
    )
    assert course.status_code == 422
    assert course.json()["error"]["details"][0]["field"] == "body.title"
    found = await client.get("/api/v1/courses", params={"q": f"excel{char}"}, headers=institution)
    assert found.status_code == 422
    assert found.json()["error"]["details"][0]["field"] == "query.q"
    read = await client.get(f"/api/v1/courses/x{quote(char)}", headers=institution)
    assert read.status_code == 422
    csv = await client.post(
        "/api/v1/courses/import",
        content=f"course_id,title\nx-2,Excel{char}\n".encode(),
        headers={**institution, "Content-Type": "text/csv"},
    )
    assert csv.status_code == 422


@pytest.mark.parametrize(
    "ref", [str(2**31), str(2**63), str(10**30), "1", "tm_%00", "tm_" + "a" * 500, "tm_'--"]
)
async def test_what_is_not_a_team_or_message_id_is_404_not_500(
    client: httpx.AsyncClient, employer: dict[str, str], ref: str
) -> None:
    """Teams and messages have opaque ids (`tm_…`, `cp_…`); anything else names nothing."""
    for path in (
        f"/api/v1/teams/{ref}/summary",
        f"/api/v1/teams/{ref}/members",
        f"/api/v1/nudges/{ref}",
        f"/api/v1/nudges/{ref.replace('tm_', 'cp_')}",
    ):
        answer = await client.get(path, headers=employer)
        expected = 422 if "%00" in ref else 404  # a control character is refused first
        assert answer.status_code == expected, path
        assert answer.json()["error"]["status"] == expected, answer.text
    for path, body in (
        (f"/api/v1/teams/{ref}/credits", _credit("k")),
        (f"/api/v1/teams/{ref}/nudges", {"text": "x"}),
    ):
        answer = await client.post(path, json=body, headers=employer)
        assert answer.status_code == (422 if "%00" in ref else 404), path


@pytest.mark.parametrize("big", [2**31, 2**63, 10**30])
async def test_member_ids_out_of_range_are_422_not_500(
    client: httpx.AsyncClient, employer: dict[str, str], big: int
) -> None:
    team = await _team(client, employer)
    response = await client.post(
        f"/api/v1/teams/{team['team_id']}/credits",
        json=_credit("k", member_ids=[big]),
        headers=employer,
    )
    assert response.status_code == 422


async def test_team_and_message_ids_are_opaque(
    client: httpx.AsyncClient, employer: dict[str, str]
) -> None:
    first, second = await _team(client, employer), await _team(client, employer)
    for team in (first, second):
        assert re.fullmatch(r"tm_[a-z0-9]{16}", team["team_id"]), team
    assert first["team_id"] != second["team_id"]
    sent = await client.post(
        f"/api/v1/teams/{first['team_id']}/nudges", json={"text": "Hoi"}, headers=employer
    )
    assert sent.status_code == 201, sent.text
    assert re.fullmatch(r"cp_[a-z0-9]{16}", sent.json()["campaign_id"])
    assert sent.json()["team_id"] == first["team_id"]
    counts = await client.get(f"/api/v1/nudges/{sent.json()['campaign_id']}", headers=employer)
    assert counts.json()["team_id"] == first["team_id"]
    summary = await client.get(f"/api/v1/teams/{first['team_id']}/summary", headers=employer)
    assert summary.json()["team_id"] == first["team_id"]


async def test_idempotency_key_reused_with_another_body_is_409(
    client: httpx.AsyncClient, services: Services, employer: dict[str, str]
) -> None:
    team = await _team(client, employer)
    await _members(services, team["team_id"], True)
    url = f"/api/v1/teams/{team['team_id']}/credits"
    first = await client.post(url, json=_credit("q1"), headers=employer)
    assert first.status_code == 201
    again = await client.post(url, json=_credit("q1"), headers=employer)
    assert again.status_code == 200 and again.json() == first.json()
    other = await client.post(url, json={**_credit("q1"), "amount_cents": 99}, headers=employer)
    assert other.status_code == 409
    assert "idempotency_key" in other.json()["error"]["message"]
    summary = await client.get(f"/api/v1/teams/{team['team_id']}/summary", headers=employer)
    assert summary.json()["granted_cents"] == 25_000  # the refused body changed nothing


async def test_dates_are_iso_strings_not_numbers(
    client: httpx.AsyncClient, services: Services, employer: dict[str, str]
) -> None:
    team = await _team(client, employer)
    url = f"/api/v1/teams/{team['team_id']}"
    sent = await client.post(f"{url}/nudges", json={"text": "x", "send_at": 0}, headers=employer)
    assert sent.status_code == 422
    credit = await client.post(
        f"{url}/credits", json={**_credit("d"), "expires_on": 1900000000}, headers=employer
    )
    assert credit.status_code == 422


async def test_team_list_and_members_with_names_only_by_consent(
    client: httpx.AsyncClient, services: Services, employer: dict[str, str]
) -> None:
    team = await _team(client, employer)
    other = _auth(await token_for(services, OrgKind.EMPLOYER, "Ander"))
    await _team(client, other)
    teams = (await client.get("/api/v1/teams", headers=employer)).json()["items"]
    assert [t["team_id"] for t in teams] == [team["team_id"]]
    assert teams[0]["invite_link"] == team["invite_link"]
    sharing, private = await _members(services, team["team_id"], True, False)
    members = (
        await client.get(f"/api/v1/teams/{team['team_id']}/members", headers=employer)
    ).json()["items"]
    by_id = {m["member_id"]: m for m in members}
    assert by_id[sharing]["name"] == "M0" and by_id[sharing]["shares_progress"] is True
    assert by_id[private]["name"] is None
    foreign = await client.get(f"/api/v1/teams/{team['team_id']}/members", headers=other)
    assert foreign.status_code == 404


async def test_allow_header_lists_every_method_of_a_path(client: httpx.AsyncClient) -> None:
    response = await client.request("PATCH", "/api/v1/courses/x-1")
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET, PUT"


async def test_openapi_documents_text_rule_and_import_body(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    team_in = spec["components"]["schemas"]["TeamIn"]["properties"]["name"]
    assert team_in["pattern"] == SAFE_TEXT_PATTERN
    imports = spec["paths"]["/api/v1/courses/import"]["post"]
    assert set(imports["requestBody"]["content"]) == {"text/csv", "application/json"}
    assert {"400", "413", "415", "422"} <= set(imports["responses"])
    credits = spec["paths"]["/api/v1/teams/{team_id}/credits"]["post"]["responses"]
    assert {"200", "201", "404", "409", "422"} <= set(credits)


@pytest.fixture
async def webhook_client(services: Services) -> AsyncIterator[tuple[httpx.AsyncClient, list[Any]]]:
    received: list[Any] = []

    async def webhook(data: dict[str, Any]) -> None:
        if "message" in data and not isinstance(data["message"], dict):
            raise ValueError("not an update")
        received.append(data)

    services.settings.telegram_webhook_secret = SecretStr("s3cret")
    transport = httpx.ASGITransport(app=create_api(services, webhook=webhook))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client, received


async def test_malformed_webhook_bodies_are_400(
    webhook_client: tuple[httpx.AsyncClient, list[Any]],
) -> None:
    client, received = webhook_client
    headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret", "Content-Type": "application/json"}
    for body in (b"{not json", b"\xff\xfe", b"[1, 2]", b'"x"', b'{"update_id": "7"}', b"{}"):
        response = await client.post("/telegram/webhook", content=body, headers=headers)
        assert response.status_code == 400, body
        assert response.json()["error"]["status"] == 400
    bad = await client.post(
        "/telegram/webhook", json={"update_id": 5, "message": 3}, headers=headers
    )
    assert bad.status_code == 400
    good = await client.post("/telegram/webhook", json={"update_id": 6}, headers=headers)
    assert good.status_code == 200 and received == [{"update_id": 6}]
    wrong = await client.post(
        "/telegram/webhook",
        json={"update_id": 6},
        headers={"X-Telegram-Bot-Api-Secret-Token": "no"},
    )
    assert wrong.status_code == 403
