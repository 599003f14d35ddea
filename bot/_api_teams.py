"""API routes for employers: teams with invite links, credits to members, the team summary."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field

from bot._api_common import ErrorResponse, SessionDep, require_kind, services_of
from core.db import utcnow
from core.models import Campaign, FundSource, Organisation, OrgKind, Team
from services.earmarks import EarmarkError, EarmarkSpec
from services.nudges import create_campaign, member_count
from services.outbox import campaign_counts
from services.teams import (
    CreditOrder,
    DuplicateRequest,
    TeamError,
    create_team,
    credit_result,
    credit_team,
    invite_link,
    manager_link,
    team_summary,
)

Employer = Annotated[Organisation, Depends(require_kind(OrgKind.EMPLOYER))]


class NudgeIn(BaseModel):
    model_config = {"extra": "forbid"}

    text: str = Field(min_length=1, max_length=1000)
    send_at: datetime | None = Field(
        default=None, description="when to send (with time zone); empty: now"
    )


class CampaignOut(BaseModel):
    campaign_id: int
    team_id: int
    send_at: datetime


class CampaignCounts(BaseModel):
    campaign_id: int
    team_id: int
    send_at: datetime
    total: int
    queued: int
    sent: int
    failed: int
    blocked: int
    opted_out: int
    attempts: int = Field(
        description="send attempts over all recipients (a message resent after a crash counts "
        "once in `sent`, twice here)"
    )


class TeamIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class TeamOut(BaseModel):
    team_id: int
    name: str
    invite_code: str
    invite_link: str
    manager_invite_link: str


class Earmark(BaseModel):
    """What the money may pay for. Give at least one of topics, skills or course_ids; a
    course is covered when it has one of them. Checked against the catalogue (422 otherwise)."""

    model_config = {"extra": "forbid"}

    topics: list[str] = Field(
        default=[],
        max_length=20,
        description="course topics as the catalogue names them (case-insensitive), e.g. "
        '"cybersecurity", "vca"; each must be a topic of at least one course',
    )
    skills: list[str] = Field(
        default=[],
        max_length=20,
        description="ESCO skills: URIs or Dutch labels; a skill group covers the skills under it",
    )
    course_ids: list[str] = Field(
        default=[], max_length=50, description="course ids of the catalogue (`course_id`)"
    )
    label: str = Field(
        default="",
        max_length=200,
        description="what the worker reads (default: the topics, skills and ids)",
    )


class CreditIn(BaseModel):
    model_config = {"extra": "forbid"}

    amount_cents: int = Field(gt=0, le=10_000_000)
    expires_on: date
    description: str = Field(min_length=1, max_length=300)
    idempotency_key: str = Field(min_length=1, max_length=100)
    member_ids: list[int] | None = Field(default=None, min_length=1)
    earmark: Earmark | Annotated[str, Field(max_length=200)] | None = Field(
        default=None,
        description="money only for some courses: an Earmark object (topics, ESCO skills or "
        "course ids), or a string that is short for one topic. An earmark whose topics, "
        "skills or ids the catalogue does not know is refused (422).",
    )
    source: FundSource = FundSource.EMPLOYER


class CreditOut(BaseModel):
    credit_id: int
    members_credited: int
    amount_cents: int
    total_cents: int
    expires_on: date


class MemberOut(BaseModel):
    member_id: int
    name: str | None
    granted_cents: int
    available_cents: int
    reserved_cents: int
    spent_cents: int
    courses: list[str]


class SummaryOut(BaseModel):
    team_id: int
    name: str
    members: int
    members_sharing: int
    granted_cents: int
    available_cents: int
    reserved_cents: int
    spent_cents: int
    expiring_60_days_cents: int
    shared_members: list[MemberOut] = Field(
        description="only members who agreed to share their own figures"
    )


def _earmark(earmark: Earmark | str | None) -> EarmarkSpec | str | None:
    if isinstance(earmark, Earmark):
        return EarmarkSpec(
            tuple(earmark.topics), tuple(earmark.skills), tuple(earmark.course_ids), earmark.label
        )
    return earmark


async def _own_team(session: SessionDep, employer: Organisation, team_id: int) -> Team:
    team = await session.get(Team, team_id)
    if team is None:
        raise HTTPException(404, f"no team {team_id}")
    if team.employer_id != employer.id:
        raise HTTPException(403, "this team belongs to another employer")
    return team


def teams_router() -> APIRouter:
    router = APIRouter(tags=["teams"])
    errors: dict[int | str, dict[str, object]] = {
        403: {"model": ErrorResponse},
        404: {"model": ErrorResponse},
    }

    @router.post("/teams", response_model=TeamOut, status_code=201)
    async def new_team(
        request: Request, session: SessionDep, employer: Employer, body: TeamIn
    ) -> TeamOut:
        """Create a team; share the invite link with your people."""
        team = await create_team(session=session, employer=employer, name=body.name)
        bot = services_of(request).settings.telegram_bot_username
        return TeamOut(
            team_id=team.id,
            name=team.name,
            invite_code=team.invite_code,
            invite_link=invite_link(bot, team.invite_code),
            manager_invite_link=manager_link(bot, team.manager_code),
        )

    @router.post("/teams/{team_id}/credits", response_model=CreditOut, responses=errors)
    async def add_credit(
        request: Request,
        response: Response,
        session: SessionDep,
        employer: Employer,
        team_id: int,
        body: CreditIn,
    ) -> CreditOut:
        """Put money in members' wallets (all members, or `member_ids`). The same
        `idempotency_key` again changes nothing and answers with the first result (200)."""
        team = await _own_team(session, employer, team_id)
        if body.expires_on <= utcnow().date():
            raise HTTPException(
                422, detail=[{"field": "expires_on", "reason": "must be after today"}]
            )
        order = CreditOrder(
            amount_cents=body.amount_cents,
            expires_on=body.expires_on,
            description=body.description,
            idempotency_key=body.idempotency_key,
            member_ids=tuple(body.member_ids) if body.member_ids is not None else None,
            earmark=_earmark(body.earmark),
            source=body.source,
        )
        try:
            result, created = await credit_team(
                session=session,
                team=team,
                funder=employer.name,
                order=order,
                zone=services_of(request).settings.timezone,
            )
        except TeamError as exc:
            raise HTTPException(422, detail=[{"field": "member_ids", "reason": str(exc)}]) from None
        except EarmarkError as exc:
            details = [{"field": p.field, "reason": p.reason} for p in exc.problems]
            raise HTTPException(422, detail=details) from None
        except DuplicateRequest:
            # The same request committed first in another transaction (its savepoint here was
            # rolled back, nothing else was written): answer with the first result.
            async with services_of(request).sessions() as fresh:
                again = await credit_result(fresh, team, body.idempotency_key)
            if again is None:
                raise HTTPException(409, "the same request is still being processed") from None
            result, created = again, False
        response.status_code = 201 if created else 200
        return CreditOut.model_validate(result)

    @router.get("/teams/{team_id}/summary", response_model=SummaryOut, responses=errors)
    async def summary(session: SessionDep, employer: Employer, team_id: int) -> SummaryOut:
        """Totals for the team; individual figures only of members who agreed to share."""
        team = await _own_team(session, employer, team_id)
        s = await team_summary(session, team, utcnow().date())
        totals = {k: v for k, v in vars(s).items() if k != "shared"}
        return SummaryOut(**totals, shared_members=[MemberOut(**vars(f)) for f in s.shared])

    @router.post(
        "/teams/{team_id}/nudges",
        response_model=CampaignOut,
        status_code=201,
        tags=["nudges"],
        responses=errors,
    )
    async def send_nudge(
        session: SessionDep, employer: Employer, team_id: int, body: NudgeIn
    ) -> CampaignOut:
        """A message to every member, now or at `send_at`. Members who stopped messages do not
        get it; nobody gets it in their quiet hours (it waits until they end)."""
        team = await _own_team(session, employer, team_id)
        now = utcnow()
        if body.send_at is not None and body.send_at.tzinfo is None:
            raise HTTPException(
                422, detail=[{"field": "send_at", "reason": "give a time zone, e.g. +01:00"}]
            )
        send_at = max(body.send_at or now, now)
        campaign = await create_campaign(session, team, body.text, send_at)
        return CampaignOut(campaign_id=campaign.id, team_id=team.id, send_at=campaign.send_at)

    @router.get(
        "/nudges/{campaign_id}", response_model=CampaignCounts, tags=["nudges"], responses=errors
    )
    async def nudge_counts(
        session: SessionDep, employer: Employer, campaign_id: int
    ) -> CampaignCounts:
        """How far a team message is: queued, sent, failed (incl. blocked), opted out."""
        campaign = await session.get(Campaign, campaign_id)
        if campaign is None:
            raise HTTPException(404, f"no campaign {campaign_id}")
        await _own_team(session, employer, campaign.team_id)
        counts = await campaign_counts(session, campaign.id)
        if not campaign.queued:  # not yet due: everyone is still to come
            members = await member_count(session, campaign.team_id)
            counts = {**counts, "total": members, "queued": members}
        return CampaignCounts(
            campaign_id=campaign.id, team_id=campaign.team_id, send_at=campaign.send_at, **counts
        )

    return router
