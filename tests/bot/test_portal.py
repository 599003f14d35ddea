"""The web portal over HTTP (no browser): sign-in links, sessions, CSRF and the organisation
rules, which are the API's. The browser journeys are in tests/e2e/test_portal_browser.py."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from bot import Services
from core.db import utcnow
from core.models import Channel, Organisation, OrgKind, Team, TeamRole, User, WalletEntry
from knowledge.models import Course
from services import create_organisation, find_user
from services.nudges import create_campaign
from services.portal import create_signin_code
from services.teams import create_team, join_team
from tests.support.chat import Chat

pytestmark = pytest.mark.db

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def _org(services: Services, kind: OrgKind, name: str) -> int:
    async with services.sessions() as session, session.begin():
        org, _ = await create_organisation(session=session, name=name, kind=kind)
        return org.id


async def _code(services: Services, org_id: int, *, minutes_ago: int = 0) -> str:
    async with services.sessions() as session, session.begin():
        org = await session.get(Organisation, org_id)
        assert org is not None
        now = utcnow() - timedelta(minutes=minutes_ago)
        return await create_signin_code(session, org, now, minutes=15)


async def _use(client: httpx.AsyncClient, code: str) -> httpx.Response:
    page = await client.get("/portaal/inloggen", params={"code": code})
    assert page.status_code == 200
    assert "Inloggen" in page.text
    [csrf] = _CSRF.findall(page.text)
    return await client.post("/portaal/inloggen", data={"code": code, "csrf": csrf})


async def _signin(client: httpx.AsyncClient, services: Services, org_id: int) -> str:
    """Sign in by a fresh link; returns the session's CSRF token."""
    response = await _use(client, await _code(services, org_id))
    assert response.status_code == 303, response.text
    home = await client.get(response.headers["location"])
    assert home.status_code == 200, home.text
    token: str = _CSRF.findall(home.text)[0]
    return token


def _client(services: Services) -> httpx.AsyncClient:
    from bot.http_api import create_api

    transport = httpx.ASGITransport(app=create_api(services))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def _team(services: Services, employer_id: int, name: str, *shares: bool) -> Team:
    async with services.sessions() as session, session.begin():
        employer = await session.get(Organisation, employer_id)
        assert employer is not None
        team = await create_team(session=session, employer=employer, name=name)
        for i, share in enumerate(shares):
            user = User(
                channel=Channel.TELEGRAM,
                external_id=f"{team.id}-{i}",
                consent=True,
                name=f"Naam{team.id}x{i}",
            )
            session.add(user)
            await session.flush()
            await join_team(
                session=session, team=team, user=user, role=TeamRole.MEMBER, share_progress=share
            )
        return team


async def test_a_link_signs_in_once_and_sets_a_safe_cookie(services: Services) -> None:
    org_id = await _org(services, OrgKind.EMPLOYER, "Bakkerij Jansen")
    code = await _code(services, org_id)
    async with _client(services) as client:
        response = await _use(client, code)
        assert response.status_code == 303
        assert response.headers["location"] == "/portaal/teams"
        cookie = next(
            h for h in response.headers.get_list("set-cookie") if h.startswith("leerloop_portaal=")
        )
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        assert "Path=/portaal" in cookie
        page = await client.get("/portaal/teams")
        assert page.status_code == 200
        assert "Bakkerij Jansen" in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
    async with _client(services) as other:  # someone else with the same link: spent
        again = await _use(other, code)
        assert again.status_code == 401
        assert "werkt niet meer" in again.text
        assert (await other.get("/portaal/teams")).status_code == 401


async def test_an_expired_or_made_up_link_does_not_sign_in(services: Services) -> None:
    org_id = await _org(services, OrgKind.EMPLOYER, "Oud")
    expired = await _code(services, org_id, minutes_ago=16)
    async with _client(services) as client:
        assert (await _use(client, expired)).status_code == 401
        assert (await _use(client, "pl_madeup")).status_code == 401
        assert (await client.get("/portaal/teams")).status_code == 401


async def test_cookies_are_secure_outside_development(services: Services) -> None:
    services.settings = services.settings.model_copy(update={"environment": "production"})
    async with _client(services) as client:
        page = await client.get("/portaal/inloggen", params={"code": "pl_x"})
        assert "Secure" in page.headers["set-cookie"]


async def test_forms_without_the_csrf_token_are_refused(services: Services) -> None:
    org_id = await _org(services, OrgKind.EMPLOYER, "Zonder")
    async with _client(services) as client:
        code = await _code(services, org_id)
        no_csrf = await client.post("/portaal/inloggen", data={"code": code})
        assert no_csrf.status_code == 403
        csrf = await _signin(client, services, org_id)  # the code above was not used up
        assert (await client.post("/portaal/teams", data={"name": "A"})).status_code == 403
        wrong = await client.post("/portaal/teams", data={"name": "A", "csrf": "x" + csrf})
        assert wrong.status_code == 403
        assert "niet voor jouw organisatie" in wrong.text or "Dat lukt niet" in wrong.text
        assert (await client.post("/portaal/uitloggen")).status_code == 403
        made = await client.post("/portaal/teams", data={"name": "Bakkers", "csrf": csrf})
        assert made.status_code == 303
    async with services.sessions() as session:
        names = (await session.scalars(select(Team.name).where(Team.employer_id == org_id))).all()
    assert names == ["Bakkers"]


async def test_sign_out_ends_the_session_for_every_copy_of_the_cookie(
    services: Services,
) -> None:
    org_id = await _org(services, OrgKind.EMPLOYER, "Weg")
    async with _client(services) as client:
        csrf = await _signin(client, services, org_id)
        kept = client.cookies.get("leerloop_portaal")
        assert kept
        out = await client.post("/portaal/uitloggen", data={"csrf": csrf})
        assert out.status_code == 200
        assert "uitgelogd" in out.text
    async with _client(services) as replay:
        replay.cookies.set("leerloop_portaal", kept, path="/portaal")
        assert (await replay.get("/portaal/teams")).status_code == 401


async def test_one_employer_never_sees_another_employers_team(services: Services) -> None:
    mine = await _org(services, OrgKind.EMPLOYER, "Mijn bedrijf")
    theirs = await _org(services, OrgKind.EMPLOYER, "Ander bedrijf")
    their_team = await _team(services, theirs, "Geheim team", True)
    async with services.sessions() as session, session.begin():
        team = await session.get(Team, their_team.id)
        assert team is not None
        campaign = await create_campaign(session, team, "Hallo", utcnow())
    async with _client(services) as client:
        csrf = await _signin(client, services, mine)
        listing = await client.get("/portaal/teams")
        assert "Geheim team" not in listing.text
        base = f"/portaal/teams/{their_team.public_id}"
        for path in (base, f"{base}/budget", f"{base}/berichten", f"{base}/qr.png"):
            response = await client.get(path)
            assert response.status_code == 404, (
                path
            )  # as unknown as a missing team (the API's rule)
            assert "Geheim team" not in response.text
            assert "Naam" not in response.text
        status = await client.get(f"/portaal/berichten/{campaign.public_id}/status")
        assert status.status_code == 404
        credit = await client.post(
            f"{base}/budget",
            data={
                "csrf": csrf,
                "amount": "100",
                "expires_on": (date.today() + timedelta(days=90)).isoformat(),
                "description": "x",
                "idempotency_key": "k1",
            },
        )
        assert credit.status_code == 404
        message = await client.post(f"{base}/berichten", data={"csrf": csrf, "text": "Hoi"})
        assert message.status_code == 404
        assert (await client.get("/portaal/teams/999999")).status_code == 404
        # An employer is not an institution or an admin.
        assert (await client.get("/portaal/cursussen")).status_code == 403
        assert (await client.get("/portaal/regelingen")).status_code == 403
    async with services.sessions() as session:
        entries = await session.scalar(select(func.count()).select_from(WalletEntry))
    assert entries == 0


async def test_the_overview_names_only_members_who_share(services: Services) -> None:
    employer = await _org(services, OrgKind.EMPLOYER, "Deelbedrijf")
    team = await _team(services, employer, "Delers", True, False)
    async with _client(services) as client:
        await _signin(client, services, employer)
        page = await client.get(f"/portaal/teams/{team.public_id}")
        assert page.status_code == 200
        assert f"Naam{team.id}x0" in page.text
        assert f"Naam{team.id}x1" not in page.text
        assert "2 leden" in page.text
        assert "<svg" in page.text  # the QR code and the charts
        budget = await client.get(f"/portaal/teams/{team.public_id}/budget")
        assert f"Naam{team.id}x0" in budget.text
        assert f"Naam{team.id}x1" not in budget.text


async def test_a_double_submitted_credit_form_credits_once(services: Services) -> None:
    employer = await _org(services, OrgKind.EMPLOYER, "Dubbel")
    team = await _team(services, employer, "Twee", False, False)
    async with _client(services) as client:
        csrf = await _signin(client, services, employer)
        form = {
            "csrf": csrf,
            "amount": "250,50",
            "expires_on": (date.today() + timedelta(days=30)).isoformat(),
            "description": "Opleiding",
            "idempotency_key": "form-1",
            "who": "all",
        }
        first = await client.post(f"/portaal/teams/{team.public_id}/budget", data=form)
        assert first.status_code == 200, first.text
        assert "Gelukt" in first.text
        second = await client.post(f"/portaal/teams/{team.public_id}/budget", data=form)
        assert "al gedaan" in second.text
        assert "€ 501" in second.text  # two members, € 250,50 each
        # expiring within 60 days shows on the page
        assert "Vervalt binnen 60 dagen" in second.text
        assert second.text.count('"Bestemming">elke cursus<') == 1, "one order in the history"
        marked = {**form, "amount": "100", "idempotency_key": "3", "earmark": "vca"}
        earmarked = await client.post(f"/portaal/teams/{team.public_id}/budget", data=marked)
        assert "Gelukt" in earmarked.text
        assert re.search(r"Met een bestemming</dt><dd>€ 200<", earmarked.text)
        unknown = {**marked, "idempotency_key": "4", "earmark": "zweefvliegen"}
        refused = await client.post(f"/portaal/teams/{team.public_id}/budget", data=unknown)
        assert refused.status_code == 422
        assert "bestemming" in refused.text
        bad = await client.post(
            f"/portaal/teams/{team.public_id}/budget",
            data={**form, "amount": "veel", "idempotency_key": "2"},
        )
        assert bad.status_code == 422
        assert "bedrag" in bad.text
    async with services.sessions() as session:
        entries = await session.scalar(select(func.count()).select_from(WalletEntry))
    assert entries == 4  # two credits of two members; the refused ones wrote nothing


CSV_HEAD = "course_id,title,format,location,price_cents\n"


async def test_an_upload_with_a_bad_row_stores_nothing_until_it_is_fixed(
    services: Services,
) -> None:
    org_id = await _org(services, OrgKind.INSTITUTION, "ROC Test")
    other = await _org(services, OrgKind.INSTITUTION, "ROC Ander")
    bad = CSV_HEAD + "a1,Excel basis,online,,10000\na2,Heftruck,klassikaal,Zwolle,duur\n"
    good = bad.replace("duur", "45000")
    async with _client(services) as client:
        csrf = await _signin(client, services, org_id)
        checked = await client.post(
            "/portaal/cursussen/upload",
            data={"csrf": csrf, "format": "auto"},
            files={"file": ("cursussen.csv", bad.encode(), "text/csv")},
        )
        assert checked.status_code == 422
        assert "Er is niets opgeslagen" in checked.text
        assert re.search(r"<td[^>]*>2</td><td[^>]*>prijs</td>", checked.text)
        assert "/portaal/cursussen/opslaan" not in checked.text
        preview = await client.post(
            "/portaal/cursussen/upload",
            data={"csrf": csrf, "format": "auto"},
            files={"file": ("cursussen.csv", good.encode(), "text/csv")},
        )
        assert preview.status_code == 200
        assert "Alles is goed: 2 cursussen" in preview.text
        async with services.sessions() as session:
            assert (
                await session.scalar(
                    select(func.count()).select_from(Course).where(Course.provider_id == org_id)
                )
                == 0
            ), "a preview stores nothing"
        stored = await client.post(
            "/portaal/cursussen/opslaan", data={"csrf": csrf, "format": "csv", "content": good}
        )
        assert stored.status_code == 303
        listing = await client.get(stored.headers["location"])
        assert "Heftruck" in listing.text
        export = await client.get("/portaal/cursussen/export.csv")
        assert export.text.splitlines()[0].startswith("course_id,title")
        assert "a2,Heftruck" in export.text
    async with _client(services) as client:
        await _signin(client, services, other)
        assert (await client.get("/portaal/cursus/a2")).status_code == 404
        assert "Heftruck" not in (await client.get("/portaal/cursussen")).text
        assert "Heftruck" not in (await client.get("/portaal/cursussen/export.json")).text
        assert (await client.get("/portaal/teams")).status_code == 403


async def test_a_course_is_edited_with_the_apis_checks(services: Services) -> None:
    org_id = await _org(services, OrgKind.INSTITUTION, "ROC Bewerk")
    async with _client(services) as client:
        csrf = await _signin(client, services, org_id)
        csv = CSV_HEAD + "e1,Excel,online,,10000\n"
        await client.post(
            "/portaal/cursussen/opslaan", data={"csrf": csrf, "format": "csv", "content": csv}
        )
        form = await client.get("/portaal/cursus/e1")
        assert 'value="Excel"' in form.text
        wrong = await client.post(
            "/portaal/cursus/e1", data={"csrf": csrf, "title": "Excel", "format": "vliegend"}
        )
        assert wrong.status_code == 422
        assert "vorm" in wrong.text
        right = await client.post(
            "/portaal/cursus/e1",
            data={"csrf": csrf, "title": "Excel gevorderd", "format": "online", "price": "125"},
        )
        assert right.status_code == 303
    async with services.sessions() as session:
        course = await session.scalar(select(Course).where(Course.provider_id == org_id))
        assert course is not None
        assert (course.title, course.price_cents) == ("Excel gevorderd", 12500)


async def test_admins_see_regulations_overdue_first(services: Services) -> None:
    admin = await _org(services, OrgKind.ADMIN, "Beheer")
    async with _client(services) as client:
        await _signin(client, services, admin)
        page = await client.get("/portaal/regelingen")
        assert page.status_code == 200
        dates = re.findall(r'data-label="Gecontroleerd op">([^<]+)<', page.text)
        assert dates, "the seeded regulations are listed"
        assert (await client.get("/portaal/teams")).status_code == 403


async def test_a_manager_gets_a_link_from_the_bot_and_others_do_not(services: Services) -> None:
    employer = await _org(services, OrgKind.EMPLOYER, "Chatbedrijf")
    team = await _team(services, employer, "Chatteam")
    now = datetime.now(UTC)
    stranger = Chat.make(services.sessions, services.settings, None, now, who="stranger")
    assert "voor leidinggevenden" in await stranger.say("/portaal")
    manager = Chat.make(services.sessions, services.settings, None, now, who="manager")
    await manager.say("/start")
    async with services.sessions() as session, session.begin():
        user = await find_user(session=session, channel=Channel.CONSOLE, external_id="manager")
        stored = await session.get(Team, team.id)
        assert user is not None and stored is not None
        await join_team(
            session=session, team=stored, user=user, role=TeamRole.MANAGER, share_progress=False
        )
    reply = await manager.say("/portaal")
    assert "Chatbedrijf" in reply and "15 minuten" in reply
    [url] = re.findall(r"http://\S+/portaal/inloggen\?code=(\S+)", reply)
    async with _client(services) as client:
        signed_in = await _use(client, url)
        assert signed_in.status_code == 303
        assert "Chatteam" in (await client.get("/portaal/teams")).text
