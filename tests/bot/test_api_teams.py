"""The employer API: teams with invite links, credits (idempotent), the aggregated summary."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot import Services
from core.models import Channel, OrgKind, Team, TeamRole, User
from services.teams import join_team
from services.wallet import book
from tests.bot.conftest import token_for

pytestmark = pytest.mark.db


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def employer(services: Services) -> dict[str, str]:
    return _auth(await token_for(services, OrgKind.EMPLOYER, "Bakkerij Jansen"))


async def _team(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.post("/api/v1/teams", json={"name": "Bakkers"}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _members(services: Services, team_id: str, *shares: bool) -> list[int]:
    ids = []
    async with services.sessions() as session, session.begin():
        team = await session.scalar(select(Team).where(Team.public_id == team_id))
        assert team is not None
        for number, share in enumerate(shares):
            user = User(
                channel=Channel.TELEGRAM, external_id=f"9{number}", consent=True, name=f"M{number}"
            )
            session.add(user)
            await session.flush()
            member = await join_team(
                session=session, team=team, user=user, role=TeamRole.MEMBER, share_progress=share
            )
            ids.append(member.id)
    return ids


def _credit(key: str, **extra: Any) -> dict[str, Any]:
    return {
        "amount_cents": 25_000,
        "expires_on": (date.today() + timedelta(days=40)).isoformat(),
        "description": "Leerbudget Q1",
        "idempotency_key": key,
        **extra,
    }


async def test_create_team_gives_invite_links(
    client: httpx.AsyncClient, employer: dict[str, str]
) -> None:
    team = await _team(client, employer)
    assert team["invite_link"] == f"https://t.me/LeerloopBot?start=team_{team['invite_code']}"
    assert team["manager_invite_link"].startswith("https://t.me/LeerloopBot?start=mgr_")


async def test_teams_are_for_employers_and_their_own_teams(
    client: httpx.AsyncClient, services: Services, employer: dict[str, str]
) -> None:
    institution = _auth(await token_for(services, OrgKind.INSTITUTION))
    assert (
        await client.post("/api/v1/teams", json={"name": "X"}, headers=institution)
    ).status_code == 403
    team = await _team(client, employer)
    other = _auth(await token_for(services, OrgKind.EMPLOYER, "Andere werkgever"))
    for response in (
        await client.get(f"/api/v1/teams/{team['team_id']}/summary", headers=other),
        await client.post(
            f"/api/v1/teams/{team['team_id']}/credits", json=_credit("x"), headers=other
        ),
    ):
        # Another employer's team is as unknown as a missing one: ids reveal nothing.
        assert response.status_code == 404
        assert response.json()["error"]["message"] == f"you have no team {team['team_id']}"
    assert (await client.get("/api/v1/teams/99999/summary", headers=employer)).status_code == 404


async def test_credits_to_all_or_some_members_once_per_key(
    client: httpx.AsyncClient, services: Services, employer: dict[str, str]
) -> None:
    team = await _team(client, employer)
    ids = await _members(services, team["team_id"], False, True, False)
    url = f"/api/v1/teams/{team['team_id']}/credits"
    first = await client.post(url, json=_credit("q1"), headers=employer)
    assert first.status_code == 201
    assert first.json()["members_credited"] == 3
    assert first.json()["total_cents"] == 75_000
    again = await client.post(url, json=_credit("q1"), headers=employer)
    assert again.status_code == 200
    assert again.json() == first.json()
    some = await client.post(url, json=_credit("q1-extra", member_ids=ids[:1]), headers=employer)
    assert some.json()["members_credited"] == 1
    summary = (
        await client.get(f"/api/v1/teams/{team['team_id']}/summary", headers=employer)
    ).json()
    assert summary["granted_cents"] == 100_000
    assert summary["available_cents"] == 100_000
    assert summary["expiring_60_days_cents"] == 100_000


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount_cents": 0}, "body.amount_cents"),
        ({"expires_on": "2020-01-01"}, "expires_on"),
        ({"member_ids": [424242]}, "member_ids"),
        ({"colour": "red"}, "body.colour"),
    ],
)
async def test_bad_credit_requests_are_422(
    client: httpx.AsyncClient, employer: dict[str, str], change: dict[str, Any], field: str
) -> None:
    team = await _team(client, employer)
    response = await client.post(
        f"/api/v1/teams/{team['team_id']}/credits", json=_credit("k", **change), headers=employer
    )
    assert response.status_code == 422
    assert field in {d["field"] for d in response.json()["error"]["details"]}


async def test_summary_shows_individuals_only_with_their_consent(
    client: httpx.AsyncClient, services: Services, employer: dict[str, str]
) -> None:
    team = await _team(client, employer)
    ids = await _members(services, team["team_id"], False, True)
    await client.post(
        f"/api/v1/teams/{team['team_id']}/credits", json=_credit("k"), headers=employer
    )
    async with services.sessions() as session, session.begin():
        for external_id in ("90", "91"):
            from sqlalchemy import select

            user = await session.scalar(select(User).where(User.external_id == external_id))
            assert user is not None
            await book(
                session=session,
                user=user,
                title=f"Cursus van {external_id}",
                price_cents=10_000,
                today=date.today(),
            )
    summary = (
        await client.get(f"/api/v1/teams/{team['team_id']}/summary", headers=employer)
    ).json()
    assert summary["members"] == 2
    assert summary["reserved_cents"] == 20_000
    assert summary["available_cents"] == 30_000
    assert summary["members_sharing"] == 1
    [shared] = summary["shared_members"]
    assert shared["member_id"] == ids[1]
    assert shared["courses"] == ["Cursus van 91"]
    assert "Cursus van 90" not in str(summary)


async def test_team_nudges_now_or_later_with_counts(
    client: httpx.AsyncClient, services: Services, employer: dict[str, str]
) -> None:
    from core.db import utcnow
    from services.nudges import queue_campaigns

    team = await _team(client, employer)
    await _members(services, team["team_id"], False, True)
    later = (utcnow() + timedelta(days=2)).isoformat()
    url = f"/api/v1/teams/{team['team_id']}/nudges"
    scheduled = await client.post(
        url, json={"text": "Training vrijdag!", "send_at": later}, headers=employer
    )
    assert scheduled.status_code == 201, scheduled.text
    counts = (
        await client.get(f"/api/v1/nudges/{scheduled.json()['campaign_id']}", headers=employer)
    ).json()
    assert (counts["total"], counts["queued"], counts["sent"]) == (2, 2, 0)
    now = await client.post(url, json={"text": "Nu!"}, headers=employer)
    campaign_id = now.json()["campaign_id"]
    async with services.sessions() as session, session.begin():
        await queue_campaigns(session, utcnow(), "UTC")  # quiet hours: at most until 08:00
    counts = (await client.get(f"/api/v1/nudges/{campaign_id}", headers=employer)).json()
    assert counts["total"] == 2
    assert counts["queued"] == 2
    naive = await client.post(
        url, json={"text": "x", "send_at": "2027-01-01T10:00:00"}, headers=employer
    )
    assert naive.status_code == 422
    assert naive.json()["error"]["details"][0]["field"] == "send_at"
    other = _auth(await token_for(services, OrgKind.EMPLOYER, "Ander"))
    assert (await client.get(f"/api/v1/nudges/{campaign_id}", headers=other)).status_code == 404
    assert (await client.post(url, json={"text": "x"}, headers=other)).status_code == 404
    assert (await client.get("/api/v1/nudges/99999", headers=employer)).status_code == 404
