"""A human advisor: the Leerwerkloket of the user's labour-market region."""

from __future__ import annotations

from actions._registry import ActionContext, ActionResult, Say, action


@action("advisor_lookup")
async def advisor_lookup(ctx: ActionContext) -> ActionResult:
    """Find the Leerwerkloket for the place the user named, or their saved region."""
    named = ctx.slots.get("advisor_place")
    text = named if isinstance(named, str) and named.strip() else None
    if text is None and ctx.user.consent and ctx.user.region:
        text = ctx.user.region
    if text is None:
        return ActionResult(slots={"advisor_found": False, "advisor_needs_place": True})
    location = await ctx.knowledge.find_location(ctx.session, text)
    if location is None:
        return ActionResult(
            slots={"advisor_found": False, "advisor_needs_place": True, "advisor_place": None},
            say=[Say("advisor_place_unknown", {"place": text})],
        )
    loket = await ctx.knowledge.loket_for(ctx.session, location)
    if loket is None:  # a province holds several regions: ask for the town
        regions = await ctx.knowledge.regions_in_province(ctx.session, location.name)
        return ActionResult(
            slots={"advisor_found": False, "advisor_needs_place": True, "advisor_place": None},
            say=[Say("advisor_province", {"province": location.name, "count": len(regions)})],
        )
    if ctx.user.consent and location.region:
        ctx.user.region = location.name if location.point else location.region
    return ActionResult(
        slots={"advisor_found": True, "advisor_needs_place": False, "advisor_place": None},
        say=[
            Say(
                "advisor_loket",
                {"name": loket.name, "place": loket.main_place, "url": loket.url},
            )
        ],
    )
