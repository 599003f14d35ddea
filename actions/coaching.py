"""Skill reflection and career exploration: the work (linked to ESCO), self-ratings on the skill
groups that matter for it, what the worker is proud of and what costs energy, a summary compared
with last time; related occupations, sectors that need people, and the help to get there."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from actions._registry import ActionContext, ActionResult, Say, action
from actions.formatting import day
from actions.phrases import phrases, starts_with_phrase
from actions.pictures import skills_picture
from core.models import Reflection
from knowledge import SearchQuery, find_regulation
from knowledge.occupations import OccupationRef
from knowledge.text import fold

RATINGS = {"r1": 1, "r2": 2, "r3": 3, "r4": 4}
STRONG = 3
# Sectors that need people: the sectors of the SLIM Ontwikkelpaden subsidy, which exists for that
# reason (knowledge/data/regulations.yml, slug slim-ontwikkelpaden).
SHORTAGE_REGULATION = "slim-ontwikkelpaden"


def dont_know(text: object) -> bool:
    """An answer that means "I don't know": fine, and not stored."""
    if not isinstance(text, str):
        return False
    folded = fold(text).strip(" .!")
    return not folded or any(starts_with_phrase(folded, d) for d in phrases("dont_know"))


def _work_slots(occupation: OccupationRef | None) -> dict[str, Any]:
    if occupation is None:
        return {"work_uri": None, "work_label": None, "work_isco": None}
    return {
        "work_uri": occupation.uri,
        "work_label": occupation.label,
        "work_isco": occupation.isco_code,
    }


async def _remember_work(ctx: ActionContext, occupation: OccupationRef) -> None:
    if ctx.user.consent:
        ctx.user.occupation_uri = occupation.uri
        ctx.user.occupation_label = occupation.label


@action("reflection_start")
async def reflection_start(ctx: ActionContext) -> ActionResult:
    """Start afresh; use the work we already know, if any."""
    known = ctx.user.occupation_uri is not None
    index = await ctx.knowledge.occupation_index(ctx.session)
    occupation = index.by_uri.get(ctx.user.occupation_uri or "")
    return ActionResult(
        slots={
            "reflect_has_work": known and occupation is not None,
            "reflect_ratings": {},
            "reflect_index": 0,
            **_work_slots(occupation),
        }
    )


@action("work_from_answer")
async def work_from_answer(ctx: ActionContext) -> ActionResult:
    """Link what the worker says about their work to an ESCO occupation."""
    text = ctx.slots.get("work_text")
    if dont_know(text):
        return ActionResult(slots=_work_slots(None), say=[Say("work_unknown_ok")])
    index = await ctx.knowledge.occupation_index(ctx.session)
    occupation = index.find(str(text))
    if occupation is None:
        return ActionResult(slots=_work_slots(None), say=[Say("work_not_found")])
    await _remember_work(ctx, occupation)
    return ActionResult(
        slots=_work_slots(occupation), say=[Say("work_found", {"label": occupation.label})]
    )


@action("reflection_groups")
async def reflection_groups(ctx: ActionContext) -> ActionResult:
    """The skill groups to rate for this work."""
    groups = await ctx.knowledge.skill_groups_for(ctx.session, ctx.slots.get("work_isco"))
    return ActionResult(
        slots={
            "reflect_groups": [
                {
                    "uri": g.uri,
                    "label": g.everyday,
                    "esco": g.label,
                    "examples": ", ".join(g.examples),
                }
                for g in groups
            ],
            "reflect_index": 0,
            "reflect_ratings": {},
        }
    )


@action("reflection_next_skill")
async def reflection_next_skill(ctx: ActionContext) -> ActionResult:
    groups = ctx.slots.get("reflect_groups") or []
    index = int(ctx.slots.get("reflect_index") or 0)
    if index >= len(groups):
        return ActionResult(slots={"reflect_rating_done": True})
    group = groups[index]
    return ActionResult(
        slots={
            "reflect_rating_done": False,
            "skill_label": group["label"],
            "skill_esco": group.get("esco") or group["label"],
            "skill_examples": group["examples"],
            "skill_number": index + 1,
            "skill_total": len(groups),
            "reflect_can_go_back": index > 0,
        }
    )


@action("reflection_rate")
async def reflection_rate(ctx: ActionContext) -> ActionResult:
    """Keep the rating, skip kindly on "I don't know", or go back one."""
    answer = ctx.slots.get("reflect_rating")
    groups = ctx.slots.get("reflect_groups") or []
    index = int(ctx.slots.get("reflect_index") or 0)
    ratings = dict(ctx.slots.get("reflect_ratings") or {})
    if answer == "back":
        return ActionResult(slots={"reflect_index": max(0, index - 1)})
    says: list[Say] = []
    if answer in RATINGS and index < len(groups):
        ratings[groups[index]["uri"]] = RATINGS[str(answer)]
    else:
        says.append(Say("reflect_skip_ok"))
    return ActionResult(slots={"reflect_ratings": ratings, "reflect_index": index + 1}, say=says)


def _lines(key: str, labels: list[str]) -> list[Say]:
    return [Say(key, {"label": label}) for label in labels]


@action("reflection_finish")
async def reflection_finish(ctx: ActionContext) -> ActionResult:
    """Save the reflection; sum up strengths and growth areas; compare with last time."""
    slots = ctx.slots
    groups = {g["uri"]: g["label"] for g in slots.get("reflect_groups") or []}
    ratings: dict[str, int] = dict(slots.get("reflect_ratings") or {})
    previous = await ctx.session.scalar(
        select(Reflection)
        .where(Reflection.user_id == ctx.user.id)
        .order_by(Reflection.created_at.desc(), Reflection.id.desc())
        .limit(1)
    )
    proud = None if dont_know(slots.get("reflect_proud")) else str(slots.get("reflect_proud"))
    energy = None if dont_know(slots.get("reflect_energy")) else str(slots.get("reflect_energy"))
    ctx.session.add(
        Reflection(
            user_id=ctx.user.id,
            occupation_uri=slots.get("work_uri"),
            occupation_label=slots.get("work_label"),
            ratings=ratings,
            proud=proud,
            energy=energy,
            created_at=ctx.now,
        )
    )
    strengths = [groups[u] for u, r in ratings.items() if r >= STRONG and u in groups]
    growth = [groups[u] for u, r in ratings.items() if r < STRONG and u in groups]
    says = [Say("reflect_summary_intro")]
    if strengths:
        says.append(Say("reflect_strengths", {"lines": _lines("reflect_line", strengths)}))
    if growth:
        says.append(Say("reflect_growth", {"lines": _lines("reflect_line", growth)}))
    if not ratings:
        says.append(Say("reflect_no_ratings"))
    if proud:
        says.append(Say("reflect_proud_echo", {"proud": proud}))
    if energy:
        says.append(Say("reflect_energy_echo", {"energy": energy}))
    if previous is not None:
        up = [
            groups[u] for u, r in ratings.items() if u in groups and r > previous.ratings.get(u, r)
        ]
        down = [
            groups[u] for u, r in ratings.items() if u in groups and r < previous.ratings.get(u, r)
        ]
        values = {"date": day(previous.created_at.date())}
        if up:
            says.append(Say("reflect_grew", {**values, "lines": _lines("reflect_line", up)}))
        if down:
            says.append(Say("reflect_lower", {**values, "lines": _lines("reflect_line", down)}))
        if not up and not down:
            says.append(Say("reflect_same", values))
    topic = growth[0] if growth else (strengths[0] if strengths else "")
    # One next step, not a list: grow where the ratings are lowest, else build on a strength.
    if growth:
        says.append(Say("reflect_next_step_grow", {"topic": topic}))
    elif strengths:
        says.append(Say("reflect_next_step_strength", {"topic": topic}))
    picture = await skills_picture(
        ctx,
        groups,
        ratings,
        previous.ratings if previous else None,
        previous.created_at.date() if previous else None,
    )
    return ActionResult(
        slots={"reflect_growth_topic": topic},
        say=says,
        attachments=[picture] if picture else [],
    )


def _wish_split(text: str) -> tuple[str, str] | None:
    """("what I do now", "where I want to go") when the text wishes for other work."""
    folded = fold(text)
    found = [
        at.start()
        for marker in phrases("career_wish")
        if (at := re.search(rf"(?:^|\W){re.escape(marker)}(?:\W|$)", folded)) is not None
    ]
    if not found:
        return None
    first = min(found)
    return folded[:first], folded[first:]


@action("careers_start")
async def careers_start(ctx: ActionContext) -> ActionResult:
    """The work to explore from (what the worker just named, or what we know), and the work
    they want to go to when they said so ("ik ben verzorgende en wil verpleegkundige worden")."""
    index = await ctx.knowledge.occupation_index(ctx.session)
    said = str(ctx.slots.get("careers_text") or "")
    named = ctx.slots.get("careers_occupation")
    target = None
    current = None
    wish = _wish_split(said) if said else None
    if wish is not None:
        before, after = wish
        target = index.find(after) or (index.find(str(named)) if named else None)
        current = index.find(before) if before.strip() else None
        if current is not None and target is not None and current.uri == target.uri:
            current = None
    elif isinstance(named, str) and named:
        current = index.find(named)
    elif said:
        current = index.find(said)  # "ik werk op de servicedesk, wat past bij mij?"
    if current is None and ctx.user.occupation_uri:
        current = index.by_uri.get(ctx.user.occupation_uri)
    if current is not None:
        await _remember_work(ctx, current)
    return ActionResult(
        slots={
            "careers_has_work": current is not None,
            "careers_has_target": target is not None,
            "careers_target": target.label if target else None,
            **_work_slots(current),
        }
    )


@action("careers_route")
async def careers_route(ctx: ActionContext) -> ActionResult:
    """How to get to the work someone wants: courses for it, side entry, help that is open."""
    target = str(ctx.slots.get("careers_target") or "")
    index = await ctx.knowledge.course_index(ctx.session, ctx.now.date())
    hits = index.search(SearchQuery(text=target, distinct_titles=True), limit=3).hits
    says = [Say("careers_route_intro", {"target": target})]
    if hits:
        lines = [Say("careers_related_line", {"label": h.course.title}) for h in hits]
        says.append(Say("careers_route_courses", {"lines": lines}))
    says += await _shortage_says(ctx)
    says.append(Say("careers_side_entry"))
    return ActionResult(say=says)


async def _shortage_says(ctx: ActionContext) -> list[Say]:
    shortage = await find_regulation(ctx.session, SHORTAGE_REGULATION)
    if shortage is None or not shortage.is_open(ctx.now.date()):
        return []
    return [
        Say(
            "careers_sectors",
            {
                "regulation": shortage.title,
                "checked_on": day(shortage.checked_on),
                "source_name": shortage.source_name,
            },
        )
    ]


@action("careers_show")
async def careers_show(ctx: ActionContext) -> ActionResult:
    """Related occupations, sectors that need people, and how to get there."""
    index = await ctx.knowledge.occupation_index(ctx.session)
    says: list[Say] = []
    uri = ctx.slots.get("work_uri")
    if isinstance(uri, str) and uri:
        related = index.related(uri, limit=5)
        if related:
            lines = [Say("careers_related_line", {"label": o.label}) for o in related]
            says.append(
                Say("careers_related", {"label": ctx.slots.get("work_label"), "lines": lines})
            )
    says += await _shortage_says(ctx)
    says.append(Say("careers_side_entry"))
    return ActionResult(say=says)


@action("profile_remember")
async def profile_remember(ctx: ActionContext) -> ActionResult:
    """Someone tells about themselves: keep the work and place (with consent) and say so."""
    index = await ctx.knowledge.occupation_index(ctx.session)
    named = ctx.slots.get("careers_occupation") or ctx.slots.get("inform_text")
    occupation = index.find(str(named)) if named else None
    place_text = ctx.slots.get("inform_place")
    location = (
        await ctx.knowledge.find_location(ctx.session, str(place_text)) if place_text else None
    )
    if occupation is None and location is None:
        return ActionResult(say=[Say("inform_thanks")])
    if not ctx.user.consent:
        return ActionResult(say=[Say("inform_no_consent")])
    says = []
    if occupation is not None:
        await _remember_work(ctx, occupation)
        says.append(Say("inform_work", {"label": occupation.label}))
    if location is not None:
        ctx.user.region = location.name
        says.append(Say("inform_place", {"place": location.name}))
    return ActionResult(say=says)
