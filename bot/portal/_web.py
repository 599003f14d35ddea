"""What every portal page shares: templates, the signed-in session, CSRF, errors, headers."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncSession

from actions.formatting import day, euro
from bot._api_common import SessionDep, check_kind, services_of
from core.db import utcnow
from core.models import Organisation, OrgKind
from core.yaml_files import load_yaml
from services.portal import SignedIn, session_for

PREFIX = "/portaal"
SESSION_COOKIE = "leerloop_portaal"
SIGNIN_COOKIE = "leerloop_portaal_inlog"  # double-submit CSRF token of the sign-in form
_HERE = Path(__file__).parent

# Pages only load what Leerloop serves itself; nothing may frame them; no referrer leaves.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

FIELD_LABELS = {
    "row": "regel",
    "body": "bestand",
    "course_id": "code",
    "title": "titel",
    "description": "beschrijving",
    "level": "niveau",
    "nlqf": "NLQF",
    "format": "vorm",
    "location": "plaats",
    "region": "provincie",
    "price_cents": "prijs",
    "duration_hours": "uren",
    "url": "link",
    "topics": "onderwerpen",
    "skills": "vaardigheden",
    "start_dates": "startdata",
    "amount_cents": "bedrag",
    "expires_on": "geldig tot",
    "member_ids": "leden",
    "send_at": "verzendmoment",
    "text": "bericht",
    "name": "naam",
    "earmark": "bestemming",
}

KIND_LABELS = {
    OrgKind.EMPLOYER: "werkgever",
    OrgKind.INSTITUTION: "onderwijsinstelling",
    OrgKind.ADMIN: "beheer",
}


def _load_reasons() -> list[tuple[re.Pattern[str], str]]:
    data = load_yaml(_HERE / "reasons.yml")
    return [(re.compile(pattern), text) for pattern, text in data["reasons"]]


_REASONS = _load_reasons()


def reason_nl(reason: str) -> str:
    """A validator's reason in Dutch, where we know it."""
    for pattern, text in _REASONS:
        if found := pattern.match(reason):
            return text.format(*found.groups())
    return reason


def _date(value: date | datetime | str | None) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    if isinstance(value, datetime):
        value = value.date()
    return day(value)


templates = Jinja2Templates(directory=_HERE / "templates")
templates.env.filters["euro"] = euro
templates.env.filters["datum"] = _date
templates.env.filters["reden"] = reason_nl
templates.env.globals["field_label"] = lambda f: FIELD_LABELS.get(f, f)
templates.env.globals["kind_label"] = lambda k: KIND_LABELS.get(k, str(k))
templates.env.globals["prefix"] = PREFIX


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    signed_in: SignedIn | None = None,
) -> HTMLResponse:
    values = {"signed_in": signed_in, "org": signed_in.org if signed_in else None}
    response = templates.TemplateResponse(
        request, name, {**values, **(context or {})}, status_code=status_code
    )
    response.headers.update(SECURITY_HEADERS)
    return response


def is_portal_request(request: Request) -> bool:
    path = request.url.path
    return path == PREFIX or path.startswith(PREFIX + "/")


_STATUS_TEXT = {
    401: "Je bent niet (meer) ingelogd. Vraag een nieuwe inloglink.",
    403: "Deze pagina is niet voor jouw organisatie.",
    404: "Deze pagina bestaat niet.",
    422: "Er klopt iets niet in wat je stuurde.",
}


def portal_error_page(request: Request, status: int) -> HTMLResponse:
    """An error as a page in Dutch (the API answers JSON; the portal people read)."""
    message = _STATUS_TEXT.get(status, "Er ging iets mis. Probeer het later nog eens.")
    return render(request, "error.html", {"status": status, "message": message}, status_code=status)


async def _signed_in(request: Request, session: SessionDep) -> SignedIn:
    token = request.cookies.get(SESSION_COOKIE)
    found = await session_for(session, token, utcnow()) if token else None
    if found is None:
        raise HTTPException(401, "not signed in")
    return found


async def optional_signed_in(request: Request, session: SessionDep) -> SignedIn | None:
    token = request.cookies.get(SESSION_COOKIE)
    return await session_for(session, token, utcnow()) if token else None


SignedInDep = Annotated[SignedIn, Depends(_signed_in)]


def check_csrf(signed_in: SignedIn, token: str) -> None:
    """Refuse a form without this session's CSRF token (403)."""
    if not token or not secrets.compare_digest(token, signed_in.csrf_token):
        raise HTTPException(403, "missing or wrong CSRF token")


@dataclass(frozen=True)
class Page:
    """A signed-in request of one organisation kind, with its database session."""

    request: Request
    session: AsyncSession
    signed_in: SignedIn

    @property
    def org(self) -> Organisation:
        return self.signed_in.org

    def render(self, name: str, context: dict[str, Any] | None = None, **kw: Any) -> HTMLResponse:
        return render(self.request, name, context, signed_in=self.signed_in, **kw)

    @property
    def settings(self) -> Any:
        return services_of(self.request).settings


def page_for(*kinds: OrgKind) -> Any:
    """A dependency: a signed-in page of an organisation of these kinds (403 otherwise; the
    same rule as the API's `require_kind`)."""

    async def dependency(request: Request, session: SessionDep, signed_in: SignedInDep) -> Page:
        check_kind(signed_in.org, *kinds)
        return Page(request, session, signed_in)

    return Depends(dependency)


async def form_page(page: Page, csrf: str) -> Page:
    check_csrf(page.signed_in, csrf)
    return page


CsrfField = Annotated[str, Form()]


def see_other(url: str) -> Response:
    response = Response(status_code=303, headers={"Location": url})
    response.headers.update(SECURITY_HEADERS)
    return response
