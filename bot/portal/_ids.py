"""Public ids in portal URLs, in one place: when the API switches teams and team messages to
opaque ids, only these functions change."""

from __future__ import annotations

from fastapi import HTTPException


def team_ref(team_id: int) -> str:
    """The id of a team as it appears in a URL."""
    return str(team_id)


def campaign_ref(campaign_id: int) -> str:
    """The id of a team message as it appears in a URL."""
    return str(campaign_id)


def _internal(ref: str, what: str) -> int:
    if not ref.isdigit() or len(ref) > 12:
        raise HTTPException(404, f"no {what} {ref}")
    return int(ref)


def team_id_of(ref: str) -> int:
    return _internal(ref, "team")


def campaign_id_of(ref: str) -> int:
    return _internal(ref, "campaign")
