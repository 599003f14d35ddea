"""Finding courses in the chat: what and where, the best three, and more on request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from actions._registry import ActionContext, ActionResult, Say, action
from actions.formatting import day, euro
from knowledge import (
    CourseIndex,
    CourseRecord,
    Location,
    SearchHit,
    SearchQuery,
)
from knowledge.text import words
from services.wallet import Budget, spendable

PAGE = 3
CANCEL = "cancel"
NEAR_KM = 30.0
ANYWHERE = "anywhere"
ONLINE = "online"


def course_value(course: CourseRecord) -> str:
    """The button value that stands for a course ("c" + its primary key)."""
    return f"c{course.pk}"


def chosen_course(index: CourseIndex, value: object) -> CourseRecord | None:
    """The course a button value (from `course_value`) stands for, if it still exists."""
    text = str(value or "")
    if not text.startswith("c") or not text[1:].isdigit():
        return None
    return index.course(int(text[1:]))


@dataclass(frozen=True)
class _Where:
    """The place part of a search: a point, a region, online only, or anywhere."""

    label: str
    near: tuple[float, float] | None = None
    region: str | None = None
    online_only: bool = False


def _where_from(location: Location) -> _Where:
    if location.point is not None:  # a town, or a municipality's main place
        return _Where(location.name, near=location.point)
    return _Where(location.name, region=location.name)


async def _resolve_where(ctx: ActionContext, raw: object) -> tuple[_Where | None, bool]:
    """The place to search around, and whether the user named a place we do not know."""
    if raw in (ANYWHERE, ONLINE):
        return _Where(raw, online_only=raw == ONLINE), False
    if isinstance(raw, str) and raw.strip():
        location = await ctx.knowledge.find_location(ctx.session, raw)
        return (_where_from(location), False) if location else (None, True)
    if ctx.user.consent and ctx.user.region:
        location = await ctx.knowledge.find_location(ctx.session, ctx.user.region)
        if location is not None:
            return _where_from(location), False
    return None, False


def _query(ctx: ActionContext, where: _Where, *, with_place: bool = True) -> SearchQuery:
    slots = ctx.slots
    level = slots.get("course_level")
    fmt = slots.get("course_format")
    if where.online_only:
        fmt = ONLINE
    max_price = slots.get("course_max_price")
    return SearchQuery(
        text=str(slots.get("course_what") or ""),
        near=where.near if with_place else None,
        region=where.region if with_place else None,
        within_km=NEAR_KM,
        include_online=fmt is None,
        max_price_cents=int(max_price) if isinstance(max_price, int | float) else None,
        levels=(level,) if isinstance(level, str) else (),
        format=fmt if isinstance(fmt, str) else None,
        distinct_titles=True,
    )


def _item(number: int, hit: SearchHit) -> Say:
    course = hit.course
    if course.price_cents is None:
        price = Say("course_price_unknown")
    elif course.price_cents == 0:
        price = Say("course_price_free")
    else:
        price = Say("course_price", {"amount": euro(course.price_cents)})
    if course.format == ONLINE or not course.location:
        place = Say("course_place_online")
    else:
        place = Say("course_place_at", {"format": course.format or "", "place": course.location})
    start = (
        Say("course_start", {"date": day(hit.next_start)})
        if hit.next_start
        else Say("course_start_unknown")
    )
    link = Say("course_link", {"url": course.url}) if course.url else Say("course_no_link")
    values: dict[str, Any] = {
        "number": number,
        "title": course.title,
        "provider": course.provider_name,
        "price": price,
        "place": place,
        "start": start,
        "link": link,
    }
    return Say("course_item", values)


async def _show(ctx: ActionContext, offset: int) -> ActionResult:
    where_data = dict(ctx.slots.get("_course_where") or {})
    if where_data.get("near"):
        where_data["near"] = tuple(where_data["near"])
    where = _Where(**where_data) if where_data else _Where(ANYWHERE)
    today: date = ctx.now.date()
    with_place = bool(ctx.slots.get("_course_with_place", True))
    result = await ctx.knowledge.search_courses(
        ctx.session,
        _query(ctx, where, with_place=with_place),
        today=today,
        offset=offset,
        limit=PAGE,
    )
    say: list[Say] = []
    if offset == 0 and with_place and result.total == 0 and (where.near or where.region):
        # Nothing near: look everywhere and say so.
        with_place = False
        result = await ctx.knowledge.search_courses(
            ctx.session, _query(ctx, where, with_place=False), today=today, offset=0, limit=PAGE
        )
        if result.total:
            say.append(Say("course_none_near", {"place": where.label}))
    slots: dict[str, Any] = {"_course_with_place": with_place}
    if result.total == 0:
        say.append(Say("course_none", {}))
        slots.update(course_found=False, course_more=False)
        return ActionResult(slots=slots, say=say)
    if offset == 0:
        say.append(Say("course_results_intro", {"total": result.total}))
    say += [_item(offset + i + 1, hit) for i, hit in enumerate(result.hits)]
    if any(hit.course.is_example for hit in result.hits):
        say.append(Say("course_example_note", {}))
    shown = offset + len(result.hits)
    slots.update(course_found=True, course_offset=shown, course_more=shown < result.total)
    slots["course_results"] = [
        {"provider_id": h.course.provider_id, "course_id": h.course.course_id} for h in result.hits
    ]
    return ActionResult(slots=slots, say=say)


@action("course_search_prepare")
async def course_search_prepare(ctx: ActionContext) -> ActionResult:
    """Work out what to look for and where; say what is still missing."""
    slots = ctx.slots
    if CANCEL in (slots.get("course_topic"), slots.get("course_place")):
        return ActionResult(slots={"course_cancelled": True})
    index = await ctx.knowledge.course_index(ctx.session, ctx.now.date())
    # What was typed, or (in a later turn, for someone who did not give consent and whose typed
    # text is therefore forgotten) the topic words of it.
    text = str(
        slots.get("course_topic") or slots.get("course_text") or slots.get("course_what") or ""
    )
    place = slots.get("course_place")
    if not place:  # a place the NLU did not mark: in the whole message, or the topic typed
        for said in dict.fromkeys(str(s) for s in (slots.get("course_text"), text) if s):
            location = await ctx.knowledge.find_location(ctx.session, said)
            if location is not None:
                place = location.name
                break
    place_words = set(words(str(place or "")))
    topic_words = [
        w for w, _ in index.query_words(text) if w not in place_words and not w.isdigit()
    ]
    where, unknown_place = await _resolve_where(ctx, place)
    updates: dict[str, Any] = {
        "course_place": place,
        "course_cancelled": False,
        "course_budget_filter": False,
        "course_what": " ".join(topic_words),
        # Asked once and still no topic: list what there is rather than ask again.
        "course_needs_what": not topic_words and not slots.get("course_topic"),
        "course_needs_where": where is None,
        "_course_with_place": True,
    }
    say: list[Say] = []
    if unknown_place:
        say.append(Say("course_place_unknown", {"place": place}))
        updates["course_place"] = None
    if where is not None:
        updates["_course_where"] = {
            "label": where.label,
            "near": list(where.near) if where.near else None,
            "region": where.region,
            "online_only": where.online_only,
        }
    return ActionResult(slots=updates, say=say)


@action("course_search")
async def course_search(ctx: ActionContext) -> ActionResult:
    """Show the best three courses."""
    return await _show(ctx, 0)


@action("course_search_more")
async def course_search_more(ctx: ActionContext) -> ActionResult:
    """Show the next three."""
    return await _show(ctx, int(ctx.slots.get("course_offset") or 0))


@action("course_within_budget")
async def course_within_budget(ctx: ActionContext) -> ActionResult:
    """Search again, only for courses the wallet can pay for now."""
    have = await spendable(ctx.session, ctx.user, ctx.now.date())
    return ActionResult(
        slots={"course_max_price": have, "course_budget_filter": True},
        say=[Say("course_budget_applied", {"amount": euro(have)})],
    )


@action("course_search_reset")
async def course_search_reset(ctx: ActionContext) -> ActionResult:
    """Forget the last search, to start a new one."""
    keys = (
        "course_topic",
        "course_text",
        "course_place",
        "course_format",
        "course_level",
        "course_budget_filter",
        "course_what",
    )
    return ActionResult(slots=dict.fromkeys((*keys, "course_max_price", "_course_where")))


# ------------------------------------------------------------ suggestions that fit

RELEVANT_SHARE = 0.5  # a hit scoring under half the best one matched only a side word


@dataclass(frozen=True)
class Suggestion:
    hit: SearchHit
    fits: bool  # the wallet can pay for it (None-wallet: always True)


def suggest(
    hits: tuple[SearchHit, ...] | list[SearchHit],
    wallet: Budget | None,
    limit: int,
    *,
    exclude_pk: int | None = None,
) -> list[Suggestion]:
    """The best courses for a goal: only hits about as relevant as the best one (not a course
    that shares one side word such as "basis"), one per title (the variant the wallet can pay
    for, cheapest first), and those the wallet can pay for before those it cannot."""
    hits = [h for h in hits if h.course.pk != exclude_pk]
    if not hits:
        return []
    best = max(h.score for h in hits)
    if best > 0:
        hits = [h for h in hits if h.score >= best * RELEVANT_SHARE]
    groups: dict[str, list[SearchHit]] = {}
    for hit in hits:
        groups.setdefault(hit.course.title.casefold(), []).append(hit)
    chosen: list[Suggestion] = []
    for variants in groups.values():
        if wallet is None:
            chosen.append(Suggestion(variants[0], True))
            continue
        fitting = [h for h in variants if wallet.pays_for(h.course)]
        if fitting:
            pick = min(fitting, key=lambda h: h.course.price_cents or 0)
            chosen.append(Suggestion(pick, True))
        else:
            pick = min(variants, key=lambda h: h.course.price_cents or 0)
            chosen.append(Suggestion(pick, False))
    chosen.sort(key=lambda s: not s.fits)  # stable: relevance order within each part
    return chosen[:limit]
