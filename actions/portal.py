"""The web portal's sign-in link in the chat (`/portaal`), for managers of a team."""

from __future__ import annotations

from actions._registry import ActionContext, ActionResult, Say, action
from services.portal import create_signin_code, portal_organisations, signin_url


@action("portal_link")
async def portal_link(ctx: ActionContext) -> ActionResult:
    """A one-time sign-in link for each employer whose team this user manages."""
    orgs = await portal_organisations(ctx.session, ctx.user)
    if not orgs:
        return ActionResult(say=[Say("portal_not_manager")])
    minutes = ctx.settings.portal_link_minutes
    says = []
    for org in orgs:
        code = await create_signin_code(ctx.session, org, ctx.now, minutes=minutes)
        url = signin_url(ctx.settings.portal_url, code)
        says.append(Say("portal_link", {"org_name": org.name, "url": url, "minutes": minutes}))
    return ActionResult(say=says)
