"""Issue 19.8: an earmark has a defined meaning (topics, ESCO skills or course ids), checked
when the money is credited and documented in OpenAPI; a booking honours it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot import Services
from core.models import Channel, OrgKind, Team, TeamRole, User, WalletEntry
from services.teams import join_team
from tests.bot.conftest import token_for

pytestmark = pytest.mark.db

SECURITY_SKILL = "opzetten en beveiligen van computersystemen"


@pytest.fixture
async def employer(services: Services) -> dict[str, str]:
    return {"Authorization": f"Bearer {await token_for(services, OrgKind.EMPLOYER, 'ICT BV')}"}


async def _team_with_member(
    client: httpx.AsyncClient, services: Services, headers: dict[str, str]
) -> str:
    response = await client.post("/api/v1/teams", json={"name": "Servicedesk"}, headers=headers)
    team_id: str = response.json()["team_id"]
    async with services.sessions() as session, session.begin():
        team = await session.scalar(select(Team).where(Team.public_id == team_id))
        assert team is not None
        user = User(channel=Channel.TELEGRAM, external_id="771", consent=True, name="Sem")
        session.add(user)
        await session.flush()
        await join_team(
            session=session, team=team, user=user, role=TeamRole.MEMBER, share_progress=False
        )
    return team_id


def _credit(key: str, earmark: Any) -> dict[str, Any]:
    return {
        "amount_cents": 150_000,
        "expires_on": (date.today() + timedelta(days=200)).isoformat(),
        "description": "Budget ICT-beveiliging",
        "idempotency_key": key,
        "earmark": earmark,
    }


@pytest.mark.parametrize(
    "earmark",
    [
        {"label": "ICT-beveiliging", "topics": ["cybersecurity", "Informatiebeveiliging"]},
        {"skills": [SECURITY_SKILL]},
        {"course_ids": ["ict-008"]},
        "vca",  # one topic, written as a string
    ],
)
async def test_a_valid_earmark_is_stored_with_its_meaning(
    client: httpx.AsyncClient, services: Services, employer: dict[str, str], earmark: Any
) -> None:
    team_id = await _team_with_member(client, services, employer)
    response = await client.post(
        f"/api/v1/teams/{team_id}/credits", json=_credit("ok", earmark), headers=employer
    )
    assert response.status_code == 201, response.text
    async with services.sessions() as session:
        entry = await session.scalar(
            select(WalletEntry)
            .join(Team, Team.id == WalletEntry.team_id)
            .where(Team.public_id == team_id)
        )
    assert entry is not None and entry.earmark_rule is not None and entry.earmark
    rule = entry.earmark_rule
    if isinstance(earmark, str):
        assert rule["topics"] == ["vca"]
    elif "topics" in earmark:
        assert rule["topics"] == ["cybersecurity", "informatiebeveiliging"]
        assert entry.earmark == "ICT-beveiliging"
    elif "skills" in earmark:
        assert rule["skills"] and all(s.startswith("http") for s in rule["skills"])
    else:
        assert rule["course_ids"] == ["ict-008"]


@pytest.mark.parametrize(
    ("earmark", "field"),
    [
        ("cursussen ICT-beveiliging", "earmark"),  # words, not a topic: no defined meaning
        ({"topics": ["ICT-beveiliging", "vca"]}, "earmark.topics[0]"),
        ({"skills": ["http://data.europa.eu/esco/skill/nope"]}, "earmark.skills[0]"),
        ({"course_ids": ["ict-008", "bestaat-niet"]}, "earmark.course_ids[1]"),
        ({"label": "Alleen een naam"}, "earmark"),
        ({"topics": ["vca"], "colour": "red"}, "body.earmark"),
    ],
)
async def test_an_earmark_without_a_defined_meaning_is_422(
    client: httpx.AsyncClient,
    services: Services,
    employer: dict[str, str],
    earmark: Any,
    field: str,
) -> None:
    team_id = await _team_with_member(client, services, employer)
    response = await client.post(
        f"/api/v1/teams/{team_id}/credits", json=_credit("bad", earmark), headers=employer
    )
    assert response.status_code == 422, response.text
    fields = [d["field"] for d in response.json()["error"]["details"]]
    assert any(f.startswith(field) for f in fields), fields
    async with services.sessions() as session:  # nothing half-written
        assert (
            await session.scalar(
                select(WalletEntry.id)
                .join(Team, Team.id == WalletEntry.team_id)
                .where(Team.public_id == team_id)
            )
            is None
        )


async def test_openapi_documents_the_earmark(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    earmark = schema["components"]["schemas"]["Earmark"]
    for name in ("topics", "skills", "course_ids", "label"):
        assert earmark["properties"][name].get("description"), name
    credit = schema["components"]["schemas"]["CreditIn"]["properties"]["earmark"]
    assert "description" in credit and "topic" in credit["description"]
