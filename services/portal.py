"""Web portal sign-in: one-time links (valid for minutes, used once) and browser sessions.

Only SHA-256 hashes of link codes and session tokens are stored, like API tokens. A link is
used up by an atomic `UPDATE ... WHERE used_at IS NULL`, so two clicks at once sign in once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Organisation, PortalLink, PortalSession, TeamRole, User
from services.organisations import hash_token
from services.teams import memberships

LINK_PREFIX = "pl_"
SESSION_PREFIX = "ps_"
DEFAULT_LINK_MINUTES = 15
DEFAULT_SESSION_HOURS = 12


async def create_signin_code(
    session: AsyncSession,
    org: Organisation,
    now: datetime,
    minutes: int = DEFAULT_LINK_MINUTES,
) -> str:
    """A new one-time sign-in code for `org`; the caller turns it into a link."""
    code = LINK_PREFIX + secrets.token_urlsafe(24)
    session.add(
        PortalLink(
            org_id=org.id,
            code_hash=hash_token(code),
            created_at=now,
            expires_at=now + timedelta(minutes=minutes),
        )
    )
    await session.flush()
    return code


def signin_url(base_url: str, code: str) -> str:
    return f"{base_url.rstrip('/')}/portaal/inloggen?code={code}"


async def redeem_signin_code(
    session: AsyncSession, code: str, now: datetime
) -> Organisation | None:
    """The organisation of a valid, unused, unexpired code, which is used up now; else None."""
    if not code.startswith(LINK_PREFIX):
        return None
    digest = hash_token(code)
    result = await session.execute(
        update(PortalLink)
        .where(
            PortalLink.code_hash == digest,
            PortalLink.used_at.is_(None),
            PortalLink.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    if result.rowcount != 1:
        return None
    link = await session.scalar(select(PortalLink).where(PortalLink.code_hash == digest))
    assert link is not None
    return await session.get(Organisation, link.org_id)


@dataclass(frozen=True)
class SignedIn:
    """A valid browser session: whose it is and the CSRF token its forms carry."""

    org: Organisation
    csrf_token: str
    expires_at: datetime


async def start_session(
    session: AsyncSession,
    org: Organisation,
    now: datetime,
    hours: int = DEFAULT_SESSION_HOURS,
) -> tuple[str, SignedIn]:
    """A new browser session; returns the cookie value (never stored) and the session."""
    token = SESSION_PREFIX + secrets.token_urlsafe(32)
    row = PortalSession(
        org_id=org.id,
        token_hash=hash_token(token),
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    session.add(row)
    await session.flush()
    return token, SignedIn(org, row.csrf_token, row.expires_at)


async def session_for(session: AsyncSession, token: str, now: datetime) -> SignedIn | None:
    """The live session of a cookie value, or None (unknown, ended or expired)."""
    if not token.startswith(SESSION_PREFIX):
        return None
    row = await session.scalar(
        select(PortalSession).where(PortalSession.token_hash == hash_token(token))
    )
    if row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    org = await session.get(Organisation, row.org_id)
    if org is None:
        return None
    return SignedIn(org, row.csrf_token, row.expires_at)


async def end_session(session: AsyncSession, token: str, now: datetime) -> None:
    """Sign out: the cookie value no longer works, even if someone kept a copy."""
    await session.execute(
        update(PortalSession)
        .where(PortalSession.token_hash == hash_token(token), PortalSession.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )


async def portal_organisations(session: AsyncSession, user: User) -> list[Organisation]:
    """The employers a chat user may open the portal for: those of the teams they manage."""
    found: dict[int, Organisation] = {}
    for member, team in await memberships(session, user):
        if member.role == TeamRole.MANAGER and team.employer_id not in found:
            org = await session.get(Organisation, team.employer_id)
            if org is not None:
                found[org.id] = org
    return list(found.values())
