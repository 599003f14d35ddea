"""The portal's pages under `/portaal`: sign-in and out, then per kind of organisation."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from bot._api_common import SessionDep, services_of
from bot.portal._admin import admin_routes
from bot.portal._employer import employer_routes
from bot.portal._institution import institution_routes
from bot.portal._web import (
    _HERE,
    PREFIX,
    SESSION_COOKIE,
    SIGNIN_COOKIE,
    CsrfField,
    check_csrf,
    optional_signed_in,
    render,
    see_other,
)
from core.db import utcnow
from core.models import OrgKind
from services.portal import (
    DEFAULT_SESSION_HOURS,
    SignedIn,
    end_session,
    redeem_signin_code,
    start_session,
)

HOME_OF = {
    OrgKind.EMPLOYER: f"{PREFIX}/teams",
    OrgKind.INSTITUTION: f"{PREFIX}/cursussen",
    OrgKind.ADMIN: f"{PREFIX}/regelingen",
}

MaybeSignedIn = Annotated[SignedIn | None, Depends(optional_signed_in)]


def mount_portal(app: FastAPI) -> None:
    """Add the portal's pages and its own CSS and script (no CDN) to the app."""
    app.include_router(portal_router())
    app.mount(f"{PREFIX}/static", StaticFiles(directory=_HERE / "static"), name="portal-static")


def portal_router() -> APIRouter:
    router = APIRouter(prefix=PREFIX, include_in_schema=False)

    @router.get("", response_class=HTMLResponse)
    async def home(request: Request, signed_in: MaybeSignedIn) -> Response:
        """Where a signed-in organisation starts; otherwise how to sign in."""
        if signed_in is not None:
            return see_other(HOME_OF[signed_in.org.kind])
        return render(request, "welcome.html")

    @router.get("/inloggen", response_class=HTMLResponse)
    async def signin_page(request: Request, code: str = "") -> Response:
        """The page a sign-in link opens: one button, so a link preview does not use it up."""
        if not code:
            return render(request, "welcome.html")
        token = secrets.token_urlsafe(24)
        response = render(request, "signin.html", {"code": code, "csrf": token})
        response.set_cookie(
            SIGNIN_COOKIE,
            token,
            max_age=3600,
            path=PREFIX,
            httponly=True,
            samesite="strict",
            secure=services_of(request).settings.secure_cookies,
        )
        return response

    @router.post("/inloggen", response_class=HTMLResponse)
    async def signin(
        request: Request,
        session: SessionDep,
        code: Annotated[str, Form()],
        csrf: CsrfField = "",
    ) -> Response:
        """Use the one-time code: a new session cookie, or a page saying the link is spent."""
        expected = request.cookies.get(SIGNIN_COOKIE, "")
        if not csrf or not expected or not secrets.compare_digest(csrf, expected):
            raise HTTPException(403, "missing or wrong CSRF token")
        now = utcnow()
        org = await redeem_signin_code(session, code, now)
        if org is None:
            return render(request, "signin_failed.html", status_code=401)
        token, _ = await start_session(session, org, now)
        response = see_other(HOME_OF[org.kind])
        settings = services_of(request).settings
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=DEFAULT_SESSION_HOURS * 3600,
            path=PREFIX,
            httponly=True,
            samesite="lax",
            secure=settings.secure_cookies,
        )
        response.delete_cookie(SIGNIN_COOKIE, path=PREFIX)
        return response

    @router.post("/uitloggen", response_class=HTMLResponse)
    async def signout(
        request: Request, session: SessionDep, signed_in: MaybeSignedIn, csrf: CsrfField = ""
    ) -> Response:
        """End the session here and in the database."""
        if signed_in is None:
            raise HTTPException(401, "not signed in")
        check_csrf(signed_in, csrf)
        await end_session(session, request.cookies.get(SESSION_COOKIE, ""), utcnow())
        response = render(request, "signed_out.html")
        response.delete_cookie(SESSION_COOKIE, path=PREFIX)
        return response

    router.include_router(employer_routes())
    router.include_router(institution_routes())
    router.include_router(admin_routes())
    return router
