"""Chat actions for the user's profile and consent."""

from __future__ import annotations

from actions._registry import ActionContext, ActionResult, action
from core.models import User
from services import withdraw_consent as forget_profile


def _profile_slots(user: User) -> dict[str, object]:
    return {"has_consent": user.consent, "name": user.name or ""}


@action("load_profile")
async def load_profile(ctx: ActionContext) -> ActionResult:
    """Put what the bot may use about the user into slots."""
    return ActionResult(slots=_profile_slots(ctx.user))


@action("give_consent")
async def give_consent(ctx: ActionContext) -> ActionResult:
    """Record consent; only now is the display name kept."""
    ctx.user.consent = True
    ctx.user.consent_at = ctx.now
    if ctx.display_name:
        ctx.user.name = ctx.display_name[:100]
    return ActionResult(slots=_profile_slots(ctx.user))


@action("withdraw_consent")
async def withdraw_consent(ctx: ActionContext) -> ActionResult:
    """Withdraw consent and drop what was kept because of it."""
    forget_profile(ctx.user)
    return ActionResult(slots=_profile_slots(ctx.user))
