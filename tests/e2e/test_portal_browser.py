"""The web portal in a real browser (Debian's chromium driven by Playwright), with the whole
process around it: the HTTP server, the Telegram channel against the fake Bot API and the
delivery engine. Every page is checked with axe-core (no serious or critical violation) and
saved as a screenshot under artifacts/portal/ (CI keeps that folder).

Slow (a browser starts), so marked `slow`: `make test-slow` and CI run it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import func, select

from bot import Services
from bot._interpreter import NluInterpreter
from bot.http_api import create_api
from bot.nudge_delivery import NudgeDelivery
from bot.telegram_channel import TelegramChannel
from core.models import Channel, Organisation, OrgKind, Team, TeamRole, User
from core.settings import Settings
from knowledge.models import Course
from services import create_organisation
from services.portal import create_signin_code, signin_url
from services.teams import join_team
from tests.support import FakeTelegram
from tests.support.databases import seeded_sqlite
from tests.support.processes import free_port

playwright_api = pytest.importorskip("playwright.async_api")

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.slow]

CHROMIUM = os.environ.get("LEERLOOP_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "portal"
PHONE = {"width": 390, "height": 844}


def _axe_script() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text("utf-8")


class Clock:
    """The delivery engine's clock: tomorrow at noon (Amsterdam), whatever time CI runs."""

    def __init__(self, zone: Any) -> None:
        tomorrow = datetime.now(zone).date() + timedelta(days=1)
        self.now = datetime.combine(tomorrow, time(12, 0), tzinfo=zone)

    def __call__(self) -> datetime:
        return self.now.astimezone(UTC)


@dataclass
class Portal:
    services: Services
    telegram: TelegramChannel
    fake: FakeTelegram
    delivery: NudgeDelivery
    clock: Clock
    base_url: str
    browser: Any
    axe: str

    async def link(self, org_id: int) -> str:
        """A sign-in link as `leerloop portal link --org ID` prints it."""
        async with self.services.sessions() as session, session.begin():
            org = await session.get(Organisation, org_id)
            assert org is not None
            code = await create_signin_code(session, org, datetime.now(UTC))
        return signin_url(self.services.settings.portal_url, code)

    async def org(self, kind: OrgKind, name: str) -> int:
        async with self.services.sessions() as session, session.begin():
            org, _ = await create_organisation(session=session, name=name, kind=kind)
            return org.id

    async def check(self, page: Any, name: str) -> None:
        """Screenshot the page and run axe-core on it: no serious or critical violation."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        await page.evaluate(self.axe)
        results = await page.evaluate(
            "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)"
        )
        bad = [
            f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
            for v in results
            if v.get("impact") in ("serious", "critical")
        ]
        assert not bad, f"accessibility on {name}: {bad}"


@pytest.fixture
async def portal(
    tmp_path: Path, fake_telegram: FakeTelegram, interpreter: NluInterpreter
) -> AsyncIterator[Portal]:
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        pytest.fail(f"no chromium at {CHROMIUM}: apt-get install chromium")
    port = free_port()
    settings = Settings(
        _env_file=None,
        TELEGRAM_BOT_TOKEN=fake_telegram.token,
        TELEGRAM_API_BASE_URL=fake_telegram.base_url,
        DATABASE_URL=await seeded_sqlite(tmp_path / "portal.db"),
        HTTP_PORT=port,
        TELEGRAM_MAX_PER_SECOND=0,
        TELEGRAM_CHAT_INTERVAL=0,
    )
    services = await Services.start(settings, interpreter=interpreter)
    telegram = TelegramChannel(services)
    await telegram.start()
    clock = Clock(settings.tz)
    delivery = NudgeDelivery(services, telegram.app.bot, clock=clock)
    server = uvicorn.Server(
        uvicorn.Config(
            create_api(services),
            host="127.0.0.1",
            port=port,
            log_config=None,
            access_log=False,
            lifespan="off",
        )
    )
    serving = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)  # uvicorn offers no event to wait on
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield Portal(
                services,
                telegram,
                fake_telegram,
                delivery,
                clock,
                f"http://127.0.0.1:{port}",
                browser,
                _axe_script(),
            )
        finally:
            await browser.close()
            server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await serving
            await delivery.stop()
            await telegram.stop()
            await services.close()


async def _sign_in(portal: Portal, org_id: int, *, phone: bool = False) -> Any:
    context = await portal.browser.new_context(
        viewport=PHONE if phone else {"width": 1280, "height": 900}, locale="nl-NL"
    )
    page = await context.new_page()
    await page.goto(await portal.link(org_id))
    await portal.check(page, "inloggen")
    await page.get_by_role("button", name="Inloggen").click()
    await page.wait_for_load_state()
    return page


async def _workers_join(portal: Portal, team_id: str, *chats: int) -> None:
    async with portal.services.sessions() as session, session.begin():
        team = await session.scalar(select(Team).where(Team.public_id == team_id))
        assert team is not None
        for chat in chats:
            user = User(
                channel=Channel.TELEGRAM, external_id=str(chat), consent=True, name=f"W{chat}"
            )
            session.add(user)
            await session.flush()
            await join_team(
                session=session, team=team, user=user, role=TeamRole.MEMBER, share_progress=False
            )


async def test_an_employer_funds_a_team_and_sees_its_message_arrive(portal: Portal) -> None:
    employer = await portal.org(OrgKind.EMPLOYER, "Bouwbedrijf De Vries")
    page = await _sign_in(portal, employer)
    assert await page.get_by_role("heading", name="Teams").is_visible()
    await portal.check(page, "teams-leeg")

    await page.get_by_label("Naam van het team").fill("Uitvoering")
    await page.get_by_role("button", name="Team maken").click()
    await page.wait_for_load_state()
    assert await page.get_by_role("heading", name="Team Uitvoering").is_visible()
    invite = await page.get_by_label("Uitnodiging voor leden").input_value()
    assert re.fullmatch(r"https://t\.me/LeerloopBot\?start=team_\w+", invite)
    assert await page.locator(".qr svg").count() == 1
    team_id = page.url.rstrip("/").split("/")[-1]
    assert team_id.startswith("tm_"), page.url  # an opaque id, not the row number

    await _workers_join(portal, team_id, 8101, 8102)
    await page.reload()
    assert "2 leden" in await page.locator("main").inner_text()
    await portal.check(page, "team")

    await page.get_by_role("link", name="Budget geven").first.click()
    await page.get_by_label("Bedrag per lid in euro").fill("300")
    expires = (datetime.now(UTC).date() + timedelta(days=45)).isoformat()
    await page.get_by_label("Geldig tot en met").fill(expires)
    await page.get_by_label("Waarvoor is het geld?").fill("Veiligheid op de bouw")
    await page.get_by_role("button", name="Geld storten").click()
    await page.wait_for_load_state()
    done = await page.get_by_role("status").inner_text()
    assert "Gelukt" in done and "2 leden krijgen elk € 300, samen € 600" in done
    figures = await page.locator(".figures").inner_text()
    assert "€ 600" in figures  # granted, and all of it expires within 60 days
    await portal.check(page, "budget")

    await page.get_by_role("link", name="Terug naar het team").click()
    await page.get_by_role("link", name="Bericht sturen").first.click()
    await page.get_by_label("Bericht").fill("Denk aan je VCA-cursus deze maand!")
    await page.get_by_label("Later:").check()
    await page.get_by_label("Dag").fill(portal.clock.now.date().isoformat())
    await page.get_by_label("Tijd").fill("10:00")
    await page.get_by_role("button", name="Bericht plannen").click()
    await page.wait_for_load_state()
    row = page.locator("tr[data-poll]").first
    assert await row.locator("[data-count=queued]").inner_text() == "2"
    assert await row.locator("[data-count=sent]").inner_text() == "0"
    await portal.check(page, "berichten-gepland")

    await portal.delivery.tick()  # tomorrow at noon for the engine: the message is due
    for chat in (8101, 8102):
        texts = [m.text or "" for m in await portal.fake.wait_for_messages(chat, 2)]
        assert any("VCA-cursus" in t for t in texts), texts
    # The page polls: the counts change without a reload.
    await page.wait_for_function(
        "() => document.querySelector('tr[data-poll] [data-count=sent]').textContent === '2'",
        timeout=15_000,
    )
    assert await row.locator("[data-count=queued]").inner_text() == "0"
    await portal.check(page, "berichten-verstuurd")

    await page.get_by_role("link", name="Terug naar het team").click()
    await portal.check(page, "team-overzicht")
    await page.get_by_role("button", name="Uitloggen").click()
    await page.wait_for_load_state()
    assert await page.get_by_role("heading", name="Je bent uitgelogd").is_visible()
    await portal.check(page, "uitgelogd")
    await page.goto(f"{portal.base_url}/portaal/teams")
    assert "niet (meer) ingelogd" in await page.locator("main").inner_text()


CSV_BAD = (
    "course_id,title,format,location,price_cents,topics\n"
    "drone-1,Drone-inspectie voor dakdekkers,online,,39500,drones;daken\n"
    "drone-2,Dakveiligheid met drones,klassikaal,Zwolle,gratis,drones\n"
)


async def test_an_institution_fixes_a_bad_row_and_a_worker_finds_the_course(
    portal: Portal, tmp_path: Path
) -> None:
    institution = await portal.org(OrgKind.INSTITUTION, "Dakacademie Noord")
    page = await _sign_in(portal, institution, phone=True)
    assert await page.get_by_role("heading", name="Je cursussen").is_visible()
    await portal.check(page, "cursussen-leeg")

    bad = tmp_path / "cursussen.csv"
    bad.write_text(CSV_BAD, encoding="utf-8")
    await page.get_by_role("link", name="Bestand uploaden").click()
    await page.get_by_label("Bestand", exact=True).set_input_files(str(bad))
    await page.get_by_role("button", name="Controleren").click()
    await page.wait_for_load_state()
    alert = await page.get_by_role("alert").inner_text()
    assert "1 fout gevonden. Er is niets opgeslagen." in alert
    cells = await page.locator("table.errors tbody tr").first.locator("td").all_inner_texts()
    assert cells[:2] == ["2", "prijs"], cells
    assert "heel getal" in cells[2]  # the reason in Dutch
    assert await page.get_by_role("button", name="Opslaan").count() == 0
    await portal.check(page, "upload-fouten")
    async with portal.services.sessions() as session:
        stored = await session.scalar(
            select(func.count()).select_from(Course).where(Course.provider_id == institution)
        )
    assert stored == 0, "nothing is stored while a row is wrong"

    good = tmp_path / "cursussen-goed.csv"
    good.write_text(CSV_BAD.replace("gratis", "0"), encoding="utf-8")
    await page.get_by_label("Bestand", exact=True).set_input_files(str(good))
    await page.get_by_role("button", name="Controleren").click()
    await page.wait_for_load_state()
    assert await page.get_by_role("heading", name=re.compile("Alles is goed: 2")).is_visible()
    await portal.check(page, "upload-voorbeeld")
    await page.get_by_role("button", name="Opslaan").click()
    await page.wait_for_load_state()
    assert "Opgeslagen: 2 cursussen" in await page.get_by_role("status").inner_text()
    await page.get_by_label("Zoeken").fill("drone")
    await page.get_by_role("button", name="Zoeken").click()
    await page.wait_for_load_state()
    assert "Drone-inspectie voor dakdekkers" in await page.locator("main").inner_text()
    await portal.check(page, "cursussen")
    await page.get_by_role("link", name="Drone-inspectie voor dakdekkers").click()
    await page.wait_for_load_state()
    await portal.check(page, "cursus-bewerken")
    await page.get_by_label("Prijs in euro").fill("375")
    await page.get_by_role("button", name="Opslaan").click()
    await page.wait_for_load_state()
    assert "€ 375" in await page.locator("main").inner_text()

    chat = 8201
    portal.fake.push_text(chat, "/cursussen")
    await portal.fake.wait_for_messages(chat, 1)
    portal.fake.push_text(chat, "drone-inspectie")
    messages = await portal.fake.wait_for_messages(chat, 2)
    portal.fake.push_button(messages[1], "Online")
    messages = await portal.fake.wait_for_messages(chat, 3)
    assert "Drone-inspectie voor dakdekkers" in (messages[2].text or ""), messages[2].text


async def test_an_admin_sees_regulations_to_review_first(portal: Portal) -> None:
    admin = await portal.org(OrgKind.ADMIN, "Leerloop beheer")
    page = await _sign_in(portal, admin)
    assert await page.get_by_role("heading", name="Regelingen").is_visible()
    assert await page.locator("tbody tr").count() >= 10
    await portal.check(page, "regelingen")
    welcome = await portal.browser.new_page()
    await welcome.goto(f"{portal.base_url}/portaal")
    await portal.check(welcome, "welkom")
    await welcome.goto(f"{portal.base_url}/portaal/bestaat-niet")
    await portal.check(welcome, "fout")
