"""Employer pages: teams with invite links and QR codes, funding, team messages, overview."""

from __future__ import annotations

import io
import secrets
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import segno
from fastapi import APIRouter, Form, HTTPException
from fastapi.responses import HTMLResponse, JSONResponse, Response

from bot._api_teams import credit_members, own_campaign, own_team, schedule_message
from bot.portal._web import (
    PREFIX,
    SECURITY_HEADERS,
    CsrfField,
    Page,
    check_csrf,
    page_for,
    see_other,
)
from core.db import utcnow
from core.models import Campaign, OrgKind, Team
from services.nudges import delivery_counts, team_campaigns
from services.teams import (
    CreditOrder,
    create_team,
    employer_teams,
    invite_link,
    manager_link,
    member_choices,
    team_credits,
    team_loops,
    team_summary,
)

EmployerPage = Annotated[Page, page_for(OrgKind.EMPLOYER)]
MAX_CENTS = 10_000_000


def _problems(exc: HTTPException) -> list[dict[str, Any]]:
    if isinstance(exc.detail, list):
        return exc.detail
    return [{"field": "", "reason": str(exc.detail)}]


def _cents(text: str) -> int | None:
    """'250', '250,50' or '1.250,00' euro as cents; None when it is not an amount."""
    cleaned = text.strip().replace("€", "").replace(" ", "")
    if "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    cents = value * 100
    if cents != cents.to_integral_value() or not 0 < cents <= MAX_CENTS:
        return None
    return int(cents)


def _bars(values: dict[str, int]) -> list[dict[str, Any]]:
    """Bar lengths in per cent of the largest value (for the SVG charts)."""
    top = max([*values.values(), 1])
    return [{"label": k, "value": v, "pct": round(100 * v / top, 1)} for k, v in values.items()]


async def _team(page: Page, ref: str) -> Team:
    return await own_team(page.session, page.org, ref)


async def _campaign_rows(page: Page, team: Team, zone: ZoneInfo) -> list[dict[str, Any]]:
    rows = []
    for campaign in await team_campaigns(page.session, team.id):
        counts = await delivery_counts(page.session, campaign)
        rows.append({"campaign": campaign, "counts": counts, "when": _local(campaign, zone)})
    return rows


def _local(campaign: Campaign, zone: ZoneInfo) -> str:
    at = campaign.send_at.astimezone(zone)
    return f"{at.day}-{at.month}-{at.year} {at:%H:%M}"


def employer_routes() -> APIRouter:
    router = APIRouter()

    @router.get("/teams", response_class=HTMLResponse)
    async def teams(page: EmployerPage) -> HTMLResponse:
        """Your teams, their members and a form for a new one."""
        return page.render("teams.html", {"teams": await employer_teams(page.session, page.org)})

    @router.post("/teams", response_class=HTMLResponse)
    async def new_team(
        page: EmployerPage, csrf: CsrfField = "", name: Annotated[str, Form()] = ""
    ) -> Response:
        check_csrf(page.signed_in, csrf)
        name = name.strip()
        if not name or len(name) > 200:
            return page.render(
                "teams.html",
                {
                    "teams": await employer_teams(page.session, page.org),
                    "errors": [{"field": "name", "reason": "Geef het team een naam."}],
                },
                status_code=422,
            )
        team = await create_team(session=page.session, employer=page.org, name=name)
        return see_other(f"{PREFIX}/teams/{team.public_id}")

    @router.get("/teams/{ref}", response_class=HTMLResponse)
    async def overview(page: EmployerPage, ref: str) -> HTMLResponse:
        """The team at a glance: invite link and QR code, money, loops, messages."""
        team = await _team(page, ref)
        bot = page.settings.telegram_bot_username
        summary = await team_summary(page.session, team, utcnow().date())
        loops = await team_loops(page.session, team)
        zone = page.settings.tz
        campaigns = await _campaign_rows(page, team, zone)
        link = invite_link(bot, team.invite_code)
        return page.render(
            "team.html",
            {
                "team": team,
                "summary": summary,
                "invite": link,
                "manager_invite": manager_link(bot, team.manager_code),
                "qr": segno.make(link, error="m").svg_inline(
                    scale=4, title=f"QR-code van de uitnodiging voor {team.name}"
                ),
                "money": _bars(
                    {
                        "Toegekend": summary.granted_cents,
                        "Besteed": summary.spent_cents,
                        "Gereserveerd": summary.reserved_cents,
                        "Vervalt binnen 60 dagen": summary.expiring_60_days_cents,
                    }
                ),
                "loops": _bars(
                    {
                        "Bezig": loops.get("active", 0),
                        "Afgerond": loops.get("completed", 0),
                        "Gestopt": loops.get("stopped", 0),
                    }
                ),
                "campaigns": campaigns,
            },
        )

    @router.get("/teams/{ref}/qr.png")
    async def qr_png(page: EmployerPage, ref: str) -> Response:
        """The invite QR code as a PNG to print or share."""
        team = await _team(page, ref)
        buffer = io.BytesIO()
        link = invite_link(page.settings.telegram_bot_username, team.invite_code)
        segno.make(link, error="m").save(buffer, kind="png", scale=10, border=4)
        return Response(
            buffer.getvalue(),
            media_type="image/png",
            headers={
                **SECURITY_HEADERS,
                "Content-Disposition": f'attachment; filename="uitnodiging-team-{ref}.png"',
            },
        )

    @router.get("/teams/{ref}/budget", response_class=HTMLResponse)
    async def budget_form(page: EmployerPage, ref: str) -> HTMLResponse:
        team = await _team(page, ref)
        return await _budget_page(page, team)

    async def _budget_page(
        page: Page,
        team: Team,
        *,
        values: dict[str, Any] | None = None,
        errors: list[dict[str, Any]] | None = None,
        result: dict[str, Any] | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        today = utcnow().date()
        credits = await team_credits(page.session, team)
        return page.render(
            "budget.html",
            {
                "team": team,
                "credits": credits,
                "earmarked": sum(c.total_cents for c in credits if c.earmark),
                "summary": await team_summary(page.session, team, today),
                "members": await member_choices(page.session, team),
                "key": secrets.token_urlsafe(16),
                "values": values or {"expires_on": date(today.year + 1, 12, 31).isoformat()},
                "min_date": (today + timedelta(days=1)).isoformat(),
                "errors": errors or [],
                "result": result,
            },
            status_code=status_code,
        )

    @router.post("/teams/{ref}/budget", response_class=HTMLResponse)
    async def budget(
        page: EmployerPage,
        ref: str,
        csrf: CsrfField = "",
        amount: Annotated[str, Form()] = "",
        expires_on: Annotated[str, Form()] = "",
        description: Annotated[str, Form()] = "",
        idempotency_key: Annotated[str, Form()] = "",
        who: Annotated[str, Form()] = "all",
        member_ids: Annotated[list[int] | None, Form()] = None,
        earmark: Annotated[str, Form()] = "",
    ) -> HTMLResponse:
        """Credit members once: the same form sent twice credits once (its hidden key)."""
        check_csrf(page.signed_in, csrf)
        team = await _team(page, ref)
        values = {
            "amount": amount,
            "expires_on": expires_on,
            "description": description,
            "who": who,
            "member_ids": member_ids or [],
            "earmark": earmark,
        }
        errors: list[dict[str, Any]] = []
        cents = _cents(amount)
        if cents is None:
            errors.append({"field": "amount_cents", "reason": "Vul een bedrag in euro in."})
        try:
            until = date.fromisoformat(expires_on)
        except ValueError:
            until = None
            errors.append({"field": "expires_on", "reason": "Kies een datum."})
        if not description.strip():
            errors.append({"field": "description", "reason": "Schrijf waar het geld voor is."})
        chosen = tuple(member_ids or ()) if who == "some" else None
        if who == "some" and not chosen:
            errors.append({"field": "member_ids", "reason": "Kies minstens één lid."})
        if not idempotency_key:
            errors.append(
                {"field": "", "reason": "Laad de pagina opnieuw en probeer het nog eens."}
            )
        if errors or cents is None or until is None:
            return await _budget_page(page, team, values=values, errors=errors, status_code=422)
        order = CreditOrder(
            amount_cents=cents,
            expires_on=until,
            description=description.strip()[:300],
            idempotency_key=idempotency_key[:100],
            member_ids=chosen,
            earmark=earmark.strip() or None,
        )
        services = page.request.app.state.services
        try:
            async with page.session.begin_nested():
                result, created = await credit_members(
                    services, page.session, team, page.org, order
                )
        except HTTPException as exc:
            return await _budget_page(
                page, team, values=values, errors=_problems(exc), status_code=exc.status_code
            )
        return await _budget_page(page, team, result={**result, "created": created})

    @router.get("/teams/{ref}/berichten", response_class=HTMLResponse)
    async def messages(page: EmployerPage, ref: str) -> HTMLResponse:
        team = await _team(page, ref)
        return await _messages_page(page, team)

    async def _messages_page(
        page: Page,
        team: Team,
        *,
        values: dict[str, Any] | None = None,
        errors: list[dict[str, Any]] | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        zone = page.settings.tz
        now = utcnow().astimezone(zone)
        return page.render(
            "messages.html",
            {
                "team": team,
                "campaigns": await _campaign_rows(page, team, zone),
                "values": values or {"when": "now", "day": now.date().isoformat(), "time": "09:00"},
                "errors": errors or [],
                "today": now.date().isoformat(),
            },
            status_code=status_code,
        )

    @router.post("/teams/{ref}/berichten", response_class=HTMLResponse)
    async def send_message(
        page: EmployerPage,
        ref: str,
        csrf: CsrfField = "",
        text: Annotated[str, Form()] = "",
        when: Annotated[str, Form()] = "now",
        day: Annotated[str, Form()] = "",
        at: Annotated[str, Form(alias="time")] = "",
    ) -> Response:
        """Write a message to the team, now or at a chosen moment (local time)."""
        check_csrf(page.signed_in, csrf)
        team = await _team(page, ref)
        values = {"text": text, "when": when, "day": day, "time": at}
        errors: list[dict[str, Any]] = []
        text = text.strip()
        if not text or len(text) > 1000:
            errors.append(
                {"field": "text", "reason": "Schrijf een bericht (hoogstens 1000 tekens)."}
            )
        send_at: datetime | None = None
        if when == "later":
            try:
                send_at = datetime.combine(
                    date.fromisoformat(day), time.fromisoformat(at), tzinfo=page.settings.tz
                )
            except ValueError:
                errors.append({"field": "send_at", "reason": "Kies een dag en een tijd."})
        if errors:
            return await _messages_page(page, team, values=values, errors=errors, status_code=422)
        campaign = await schedule_message(page.session, team, text, send_at)
        return see_other(f"{PREFIX}/teams/{team.public_id}/berichten#bericht-{campaign.public_id}")

    @router.get("/berichten/{ref}/status")
    async def message_status(page: EmployerPage, ref: str) -> JSONResponse:
        """Delivery counts of one message, for the page that polls them."""
        campaign = await own_campaign(page.session, page.org, ref)
        counts = await delivery_counts(page.session, campaign)
        return JSONResponse(
            {"id": campaign.public_id, "due": campaign.queued, **counts},
            headers=SECURITY_HEADERS,
        )

    return router
