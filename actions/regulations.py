"""Answering questions about regulations: what it is, for whom, how much, how to apply, the
source and the date checked; for an ended scheme, that it ended and what is open now."""

from __future__ import annotations

from typing import Any

from actions._registry import ActionContext, ActionResult, Say, action
from actions.formatting import day
from knowledge import find_regulation, list_regulations, open_alternatives
from knowledge.models import Regulation

_MAX_WORDS = 4


async def _named_in(ctx: ActionContext, text: str) -> Regulation | None:
    """A regulation named somewhere in a sentence (longest run of words first)."""
    words = text.split()
    for size in range(min(_MAX_WORDS, len(words)), 0, -1):
        for start in range(len(words) - size + 1):
            found = await find_regulation(ctx.session, " ".join(words[start : start + size]))
            if found is not None:
                return found
    return None


def _source(regulation: Regulation) -> Say:
    return Say(
        "regulation_source",
        {
            "source_name": regulation.source_name,
            "source_url": regulation.source_url,
            "checked_on": day(regulation.checked_on),
        },
    )


def _details(regulation: Regulation) -> dict[str, Any]:
    return {
        "title": regulation.title,
        "summary": regulation.summary,
        "who": regulation.who,
        "amounts": regulation.amounts,
        "how_to_apply": regulation.how_to_apply,
        "source": _source(regulation),
    }


@action("regulation_lookup")
async def regulation_lookup(ctx: ActionContext) -> ActionResult:
    """Find the regulation asked about; offer a choice when none was named."""
    slots = ctx.slots
    regulation = None
    for candidate in (slots.get("regulation_choice"), slots.get("regulation_name")):
        if isinstance(candidate, str) and candidate:
            regulation = await find_regulation(ctx.session, candidate)
            if regulation is not None:
                break
    if regulation is None and isinstance(slots.get("regulation_text"), str):
        regulation = await _named_in(ctx, slots["regulation_text"])
    say: list[Say] = []
    if regulation is None and isinstance(slots.get("regulation_choice"), str):
        say.append(Say("regulation_unknown"))
    if regulation is None:
        today = ctx.now.date()
        choices = [
            {"value": r.slug, "label": r.title}
            for r in await list_regulations(ctx.session)
            if r.country == "NL" and r.is_open(today)
        ]
        return ActionResult(
            slots={"regulation_found": False, "regulation_options": choices}, say=say
        )
    return ActionResult(slots={"regulation_found": True, "regulation_slug": regulation.slug})


@action("regulation_explain")
async def regulation_explain(ctx: ActionContext) -> ActionResult:
    """Say what the regulation is; for an ended one, say so and name what is open now."""
    regulation = await find_regulation(ctx.session, str(ctx.slots.get("regulation_slug") or ""))
    if regulation is None:
        return ActionResult(say=[Say("regulation_unknown")])
    today = ctx.now.date()
    slots = {"regulation_choice": None, "regulation_name": None, "regulation_text": None}
    if regulation.is_open(today):
        key = "regulation_open" if regulation.country == "NL" else "regulation_abroad"
        return ActionResult(slots=slots, say=[Say(key, _details(regulation))])
    if regulation.valid_until is not None and regulation.valid_until < today:
        says = [
            Say(
                "regulation_ended",
                {**_details(regulation), "ended_on": day(regulation.valid_until)},
            )
        ]
        alternatives = await open_alternatives(ctx.session, regulation, today)
        if alternatives:
            lines = [
                Say("regulation_alternative", {"title": r.title, "summary": r.summary})
                for r in alternatives
            ]
            says.append(Say("regulation_alternatives", {"lines": lines}))
        says.append(_source(regulation))
        return ActionResult(slots=slots, say=says)
    assert regulation.valid_from is not None
    return ActionResult(
        slots=slots,
        say=[
            Say(
                "regulation_not_started",
                {**_details(regulation), "starts_on": day(regulation.valid_from)},
            )
        ],
    )
