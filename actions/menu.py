"""The short menu: three things that fit this person now, instead of the whole list."""

from __future__ import annotations

from sqlalchemy import exists, func, select

from actions._registry import ActionContext, ActionResult, action
from core.models import LearningLoop, LoopStatus, Reflection, TeamMember, TeamRole
from services.wallet import spendable


@action("menu_suggestions")
async def menu_suggestions(ctx: ActionContext) -> ActionResult:
    """Commands in the order they help most: a manager's team, the loop under way, money that
    can be spent, a first reflection; without consent only what keeps nothing about them."""
    if not ctx.user.consent:
        return ActionResult(slots={"menu_suggestions": ["cursussen", "regelingen", "loopbaan"]})
    session, user = ctx.session, ctx.user
    manager = await session.scalar(
        select(exists().where(TeamMember.user_id == user.id, TeamMember.role == TeamRole.MANAGER))
    )
    active_loop = await session.scalar(
        select(
            exists().where(
                LearningLoop.user_id == user.id, LearningLoop.status == LoopStatus.ACTIVE
            )
        )
    )
    reflected = (
        await session.scalar(
            select(func.count()).select_from(Reflection).where(Reflection.user_id == user.id)
        )
        or 0
    ) > 0
    money = await spendable(session, user, ctx.now.date()) > 0
    chosen: list[str] = []
    if manager:
        chosen.append("team")
    chosen += ["voortgang", "cursussen"] if active_loop else []
    chosen += ["saldo"] if money else []
    chosen += ["leerloop", "cursussen"] if reflected else ["reflectie", "leerloop"]
    chosen += ["cursussen", "loopbaan", "saldo"]
    return ActionResult(slots={"menu_suggestions": list(dict.fromkeys(chosen))[:3]})
