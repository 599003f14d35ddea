"""API routes for employers: teams with invite links, credits to members, the team summary."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot._api_common import (
    MAX_ID,
    ErrorResponse,
    SessionDep,
    require_kind,
    services_of,
)
from bot._services import Services
from core.db import utcnow
from core.models import (
    CAMPAIGN_PREFIX,
    TEAM_PREFIX,
    Campaign,
    FundSource,
    Organisation,
    OrgKind,
    Team,
    TeamMember,
    TeamRole,
    User,
    is_public_id,
    public_id_pattern,
)
from core.text_input import IsoDate, IsoDateTime, WholeNumber
from services.earmarks import EarmarkError, EarmarkSpec
from services.nudges import create_campaign, delivery_counts
from services.teams import (
    CreditOrder,
    DuplicateRequest,
    IdempotencyConflict,
    TeamError,
    create_team,
    credit_result,
    credit_team,
    invite_link,
    manager_link,
    team_summary,
)

Employer = Annotated[Organisation, Depends(require_kind(OrgKind.EMPLOYER))]
TEAM_ID_PATTERN = public_id_pattern(TEAM_PREFIX)
CAMPAIGN_ID_PATTERN = public_id_pattern(CAMPAIGN_PREFIX)
# The documented pattern is not enforced as a 422: an id that is not one is a team that does
# not exist (404), as for another employer's team (own_team).
TeamId = Annotated[
    str,
    Path(
        description="a team's id from POST/GET /teams, e.g. `tm_3k9x0c1b7q2w8e5r`",
        json_schema_extra={"pattern": TEAM_ID_PATTERN},
    ),
]
CampaignId = Annotated[
    str,
    Path(
        description="a team message's id from POST /teams/{team_id}/nudges, e.g. "
        "`cp_7f2m1n0z8y4x6w3v`",
        json_schema_extra={"pattern": CAMPAIGN_ID_PATTERN},
    ),
]
PublicTeamId = Annotated[str, Field(pattern=TEAM_ID_PATTERN, examples=["tm_3k9x0c1b7q2w8e5r"])]
PublicCampaignId = Annotated[
    str, Field(pattern=CAMPAIGN_ID_PATTERN, examples=["cp_7f2m1n0z8y4x6w3v"])
]
MemberId = Annotated[WholeNumber, Field(ge=1, le=MAX_ID)]


class NudgeIn(BaseModel):
    model_config = {"extra": "forbid"}

    text: str = Field(min_length=1, max_length=1000)
    send_at: IsoDateTime | None = Field(
        default=None, description="when to send (ISO 8601 with time zone); empty or past: now"
    )


class CampaignOut(BaseModel):
    campaign_id: PublicCampaignId
    team_id: PublicTeamId
    send_at: datetime


class CampaignCounts(BaseModel):
    campaign_id: PublicCampaignId
    team_id: PublicTeamId
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
    model_config = {"extra": "forbid"}

    name: str = Field(min_length=1, max_length=200)


class TeamOut(BaseModel):
    team_id: PublicTeamId
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

    amount_cents: WholeNumber = Field(gt=0, le=10_000_000)
    expires_on: IsoDate = Field(description="the last day the money counts; after today (422)")
    description: str = Field(min_length=1, max_length=300)
    idempotency_key: str = Field(
        min_length=1,
        max_length=100,
        description="the same key with the same body changes nothing (200 with the first "
        "result); the same key with another body is refused (409)",
    )
    member_ids: list[MemberId] | None = Field(
        default=None, min_length=1, description="`member_id`s from GET /teams/{team_id}/members"
    )
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


class TeamList(BaseModel):
    items: list[TeamOut]


class TeamMemberOut(BaseModel):
    member_id: int
    role: TeamRole
    joined_at: datetime
    shares_progress: bool = Field(description="the member agreed to share their own figures")
    name: str | None = Field(description="only when the member agreed to share")


class TeamMemberList(BaseModel):
    team_id: PublicTeamId
    items: list[TeamMemberOut]


class MemberOut(BaseModel):
    member_id: int
    name: str | None
    granted_cents: int
    available_cents: int
    reserved_cents: int
    spent_cents: int
    courses: list[str]


class SummaryOut(BaseModel):
    team_id: PublicTeamId
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


async def own_team(session: AsyncSession, employer: Organisation, team_id: str) -> Team:
    """The employer's own team by its public id; another employer's team is as unknown as a
    missing one (404), so ids tell nobody which teams exist elsewhere. The API and the portal
    both check with this."""
    team = None
    if is_public_id(TEAM_PREFIX, team_id):
        team = await session.scalar(select(Team).where(Team.public_id == team_id))
    if team is None or team.employer_id != employer.id:
        raise HTTPException(404, f"you have no team {team_id[:40]}")
    return team


def _team_out(team: Team, bot: str) -> TeamOut:
    return TeamOut(
        team_id=team.public_id,
        name=team.name,
        invite_code=team.invite_code,
        invite_link=invite_link(bot, team.invite_code),
        manager_invite_link=manager_link(bot, team.manager_code),
    )


def _fingerprint(body: BaseModel) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def own_campaign(session: AsyncSession, employer: Organisation, campaign_id: str) -> Campaign:
    """A message to one of the employer's teams by its public id (404 for another employer's,
    like `own_team`)."""
    campaign = None
    if is_public_id(CAMPAIGN_PREFIX, campaign_id):
        campaign = await session.scalar(select(Campaign).where(Campaign.public_id == campaign_id))
    team = await session.get(Team, campaign.team_id) if campaign is not None else None
    if campaign is None or team is None or team.employer_id != employer.id:
        raise HTTPException(404, f"you have no campaign {campaign_id[:40]}")
    return campaign


async def credit_members(
    services: Services,
    session: AsyncSession,
    team: Team,
    employer: Organisation,
    order: CreditOrder,
) -> tuple[dict[str, Any], bool]:
    """Credit the team once per idempotency key (API and portal): (result, created now).
    Problems are a 422 with the fields; the same key sent twice at once gets the first result."""
    if order.expires_on <= utcnow().date():
        raise HTTPException(422, detail=[{"field": "expires_on", "reason": "must be after today"}])
    try:
        return await credit_team(
            session=session,
            team=team,
            funder=employer.name,
            order=order,
            zone=services.settings.timezone,
        )
    except TeamError as exc:
        raise HTTPException(422, detail=[{"field": "member_ids", "reason": str(exc)}]) from None
    except EarmarkError as exc:
        details = [{"field": p.field, "reason": p.reason} for p in exc.problems]
        raise HTTPException(422, detail=details) from None
    except IdempotencyConflict:
        raise HTTPException(
            409, "this idempotency_key was used before with another request body"
        ) from None
    except DuplicateRequest:
        # The same request committed first in another transaction (its savepoint here was
        # rolled back, nothing else was written): answer with the first result.
        async with services.read_sessions() as fresh:
            again = await credit_result(fresh, team, order.idempotency_key)
        if again is None:
            raise HTTPException(409, "the same request is still being processed") from None
        return again, False


async def schedule_message(
    session: AsyncSession, team: Team, text: str, send_at: datetime | None
) -> Campaign:
    """A message to the team now or later (API and portal); a time must have a time zone."""
    now = utcnow()
    if send_at is not None and send_at.tzinfo is None:
        raise HTTPException(
            422, detail=[{"field": "send_at", "reason": "give a time zone, e.g. +01:00"}]
        )
    return await create_campaign(session, team, text, max(send_at or now, now))


def teams_router() -> APIRouter:
    router = APIRouter(tags=["teams"])
    errors: dict[int | str, dict[str, Any]] = {404: {"model": ErrorResponse}}

    @router.post("/teams", response_model=TeamOut, status_code=201)
    async def new_team(
        request: Request, session: SessionDep, employer: Employer, body: TeamIn
    ) -> TeamOut:
        """Create a team; share the invite link with your people."""
        team = await create_team(session=session, employer=employer, name=body.name)
        return _team_out(team, services_of(request).settings.telegram_bot_username)

    @router.get("/teams", response_model=TeamList)
    async def list_teams(request: Request, session: SessionDep, employer: Employer) -> TeamList:
        """Your teams with their invite links (a lost link is found here again)."""
        teams = await session.scalars(
            select(Team).where(Team.employer_id == employer.id).order_by(Team.id)
        )
        bot = services_of(request).settings.telegram_bot_username
        return TeamList(items=[_team_out(team, bot) for team in teams])

    @router.get("/teams/{team_id}/members", response_model=TeamMemberList, responses=errors)
    async def list_members(
        session: SessionDep, employer: Employer, team_id: TeamId
    ) -> TeamMemberList:
        """Who is in the team (ids for `member_ids`); a name only of members who agreed to
        share."""
        team = await own_team(session, employer, team_id)
        rows = await session.execute(
            select(TeamMember, User)
            .join(User, User.id == TeamMember.user_id)
            .where(TeamMember.team_id == team.id)
            .order_by(TeamMember.id)
        )
        items = [
            TeamMemberOut(
                member_id=member.id,
                role=member.role,
                joined_at=member.joined_at,
                shares_progress=member.share_progress,
                name=user.name if member.share_progress and user.consent else None,
            )
            for member, user in rows.all()
        ]
        return TeamMemberList(team_id=team.public_id, items=items)

    @router.post(
        "/teams/{team_id}/credits",
        response_model=CreditOut,
        status_code=201,
        responses={
            **errors,
            200: {"model": CreditOut, "description": "the same request again: first result"},
            409: {"model": ErrorResponse, "description": "key used before with another body"},
        },
    )
    async def add_credit(
        request: Request,
        response: Response,
        session: SessionDep,
        employer: Employer,
        team_id: TeamId,
        body: CreditIn,
    ) -> CreditOut:
        """Put money in members' wallets (all members, or `member_ids`); 201. The same
        `idempotency_key` with the same body changes nothing and answers with the first result
        (200); with another body it is refused (409)."""
        team = await own_team(session, employer, team_id)
        order = CreditOrder(
            amount_cents=body.amount_cents,
            expires_on=body.expires_on,
            description=body.description,
            idempotency_key=body.idempotency_key,
            member_ids=tuple(body.member_ids) if body.member_ids is not None else None,
            earmark=_earmark(body.earmark),
            source=body.source,
            fingerprint=_fingerprint(body),
        )
        result, created = await credit_members(services_of(request), session, team, employer, order)
        response.status_code = 201 if created else 200
        return CreditOut.model_validate(result)

    @router.get("/teams/{team_id}/summary", response_model=SummaryOut, responses=errors)
    async def summary(session: SessionDep, employer: Employer, team_id: TeamId) -> SummaryOut:
        """Totals for the team; individual figures only of members who agreed to share."""
        team = await own_team(session, employer, team_id)
        s = await team_summary(session, team, utcnow().date())
        totals = {k: v for k, v in vars(s).items() if k != "shared"} | {"team_id": team_id}
        return SummaryOut(**totals, shared_members=[MemberOut(**vars(f)) for f in s.shared])

    @router.post(
        "/teams/{team_id}/nudges",
        response_model=CampaignOut,
        status_code=201,
        tags=["nudges"],
        responses=errors,
    )
    async def send_nudge(
        session: SessionDep, employer: Employer, team_id: TeamId, body: NudgeIn
    ) -> CampaignOut:
        """A message to every member, now or at `send_at`. Members who stopped messages do not
        get it; nobody gets it in their quiet hours (it waits until they end)."""
        team = await own_team(session, employer, team_id)
        campaign = await schedule_message(session, team, body.text, body.send_at)
        return CampaignOut(
            campaign_id=campaign.public_id, team_id=team.public_id, send_at=campaign.send_at
        )

    @router.get(
        "/nudges/{campaign_id}", response_model=CampaignCounts, tags=["nudges"], responses=errors
    )
    async def nudge_counts(
        session: SessionDep, employer: Employer, campaign_id: CampaignId
    ) -> CampaignCounts:
        """How far a team message is: queued, sent, failed (incl. blocked), opted out."""
        campaign = await own_campaign(session, employer, campaign_id)
        counts = await delivery_counts(session, campaign)
        team = await session.get(Team, campaign.team_id)
        assert team is not None  # own_campaign found it
        return CampaignCounts(
            campaign_id=campaign.public_id,
            team_id=team.public_id,
            send_at=campaign.send_at,
            **counts,
        )

    return router
