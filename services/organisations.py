"""Organisations (employers, institutions, admins) and their API tokens. Only a hash is stored."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Organisation, OrgKind

TOKEN_PREFIX = "ll_"  # noqa: S105  (a prefix, not a secret)


def hash_token(token: str) -> str:
    # Tokens are 256 random bits, so a fast hash is safe here (no password stretching needed).
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def create_organisation(
    *, session: AsyncSession, name: str, kind: OrgKind
) -> tuple[Organisation, str]:
    """Create an organisation; return it with its token, which is never stored in clear."""
    name = name.strip()
    if not name:
        raise ValueError("name must not be empty")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    org = Organisation(name=name[:200], kind=kind, token_hash=hash_token(token))
    session.add(org)
    await session.flush()
    return org, token


async def authenticate(*, session: AsyncSession, token: str) -> Organisation | None:
    """The organisation a bearer token belongs to, or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    stmt = select(Organisation).where(Organisation.token_hash == hash_token(token))
    return (await session.execute(stmt)).scalar_one_or_none()
