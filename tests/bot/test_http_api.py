from __future__ import annotations

from typing import Any

import httpx
import pytest

from bot import Services
from core.models import OrgKind
from tests.bot.conftest import token_for

pytestmark = pytest.mark.db


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_openapi_and_docs(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert "/api/v1/me" in spec["paths"]
    assert (await client.get("/docs")).status_code == 200


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "missing bearer token"),
        ({"Authorization": "Bearer ll_wrong"}, "invalid bearer token"),
        ({"Authorization": "Basic abc"}, "missing bearer token"),
    ],
)
async def test_auth_errors_are_json(
    client: httpx.AsyncClient, headers: dict[str, str], message: str
) -> None:
    response = await client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"error": {"status": 401, "message": message}}


async def test_token_identifies_the_organisation(
    client: httpx.AsyncClient, services: Services
) -> None:
    token = await token_for(services, OrgKind.EMPLOYER)
    response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    assert body["kind"] == "employer"
    assert body["name"] == "org employer"


async def test_unknown_path_is_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nope")
    assert response.status_code == 404
    assert response.json()["error"]["status"] == 404


async def test_webhook_is_absent_without_webhook_mode(client: httpx.AsyncClient) -> None:
    response = await client.post("/telegram/webhook", json={"update_id": 1})
    assert response.status_code == 404
