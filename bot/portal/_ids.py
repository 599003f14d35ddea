"""Public ids in portal URLs, in one place: the same `tm_…`/`cp_…` ids as the API's, never the
row ids (core.models.new_public_id)."""

from __future__ import annotations

import re

from fastapi import HTTPException

from core.models import CAMPAIGN_PREFIX, TEAM_PREFIX, Campaign, Team, public_id_pattern

_TEAM = re.compile(public_id_pattern(TEAM_PREFIX))
_CAMPAIGN = re.compile(public_id_pattern(CAMPAIGN_PREFIX))


def team_ref(team: Team) -> str:
    """The id of a team as it appears in a URL."""
    return team.public_id


def campaign_ref(campaign: Campaign) -> str:
    """The id of a team message as it appears in a URL."""
    return campaign.public_id


def _checked(ref: str, pattern: re.Pattern[str], what: str) -> str:
    if not pattern.fullmatch(ref):
        raise HTTPException(404, f"no {what} {ref[:40]}")
    return ref


def team_id_of(ref: str) -> str:
    """A team id from a URL; anything that is not one is a page that does not exist."""
    return _checked(ref, _TEAM, "team")


def campaign_id_of(ref: str) -> str:
    return _checked(ref, _CAMPAIGN, "campaign")
