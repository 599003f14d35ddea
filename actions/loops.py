"""Learning loops: a goal made concrete (what, why, by when), an activity (a course that fits, or
practice at work), dated steps, how it will be applied, progress, and a closing reflection that
adds an achievement to the wallet."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from actions._registry import ActionContext, ActionResult, Say, action
from actions.coaching import dont_know
from actions.courses import chosen_course, course_value
from actions.formatting import day, euro
from actions.phrases import phrases, starts_with_phrase
from core.models import LearningLoop, LoopStatus, LoopStep
from knowledge import SearchQuery, course_index, find_location
from knowledge.search import CourseRecord
from knowledge.text import fold
from services.wallet import add_achievement, spendable

DEADLINES = {"m1": 30, "m3": 91, "m6": 182, "y1": 365}
PRACTICE = "practice"
COURSE_WEEKS_AFTER_START = 8


async def active_loop(ctx: ActionContext) -> LearningLoop | None:
    loop: LearningLoop | None = await ctx.session.scalar(
        select(LearningLoop)
        .where(LearningLoop.user_id == ctx.user.id, LearningLoop.status == LoopStatus.ACTIVE)
        .order_by(LearningLoop.id.desc())
        .limit(1)
    )
    return loop


@action("loop_check_existing")
async def loop_check_existing(ctx: ActionContext) -> ActionResult:
    loop = await active_loop(ctx)
    return ActionResult(
        slots={"loop_exists": loop is not None, "loop_goal": loop.goal if loop else None}
    )


@action("loop_stop_existing")
async def loop_stop_existing(ctx: ActionContext) -> ActionResult:
    loop = await active_loop(ctx)
    if loop is not None:
        loop.status = LoopStatus.STOPPED
    return ActionResult()


_SMALL_WORDS = frozenset({"van", "voor", "om", "te", "in", "en", "of", "over", "aan", "bij", "op"})


def goal_in(text: str) -> str | None:
    """The goal in a first message ("ik wil heftruk rijbewjs halen" -> "heftruk rijbewjs
    halen"), or None when it only asks for a learning loop ("ik wil een leerplan maken")."""
    folded = fold(text).strip(" .!?")
    generic = set(phrases("loop_generic")) | _SMALL_WORDS
    if not any(w not in generic for w in re.findall(r"[\w-]+", folded)):
        return None
    goal = text.strip().rstrip(".!? ")
    for opening in phrases("wish_openings"):
        if starts_with_phrase(fold(goal), opening):
            goal = goal[len(opening) :].strip(" ,:")
            break
    return goal or None


@action("loop_goal_from_start")
async def loop_goal_from_start(ctx: ActionContext) -> ActionResult:
    """A first message that already names the goal starts there, instead of asking for it."""
    goal = goal_in(str(ctx.slots.get("loop_start_text") or ""))
    says = [Say("loop_goal_taken", {"goal": goal})] if goal else []
    # Used once: "opnieuw" later asks for the goal.
    return ActionResult(slots={"loop_goal_text": goal, "loop_start_text": None}, say=says)


@action("loop_goal_check")
async def loop_goal_check(ctx: ActionContext) -> ActionResult:
    """A goal needs some words; "I don't know" gets help instead of a plan."""
    goal = ctx.slots.get("loop_goal_text")
    if dont_know(goal) or len(str(goal).split()) < 1:
        return ActionResult(slots={"loop_goal_ok": False}, say=[Say("loop_goal_help")])
    return ActionResult(slots={"loop_goal_ok": True})


@action("loop_suggest")
async def loop_suggest(ctx: ActionContext) -> ActionResult:
    """Courses that fit the goal, the worker's place and budget (best three), as buttons."""
    today = ctx.now.date()
    index = await course_index(ctx.session, today)
    goal = str(ctx.slots.get("loop_goal_text") or "")
    near = None
    if ctx.user.consent and ctx.user.region:
        location = await find_location(ctx.session, ctx.user.region)
        if location is not None and location.lat is not None and location.lon is not None:
            near = (location.lat, location.lon)
    budget = await spendable(ctx.session, ctx.user, today)
    base = SearchQuery(
        text=goal, near=near, within_km=30, include_online=True, distinct_titles=True
    )
    hits = index.search(base, limit=3).hits
    if not hits and near is not None:
        hits = index.search(SearchQuery(text=goal, distinct_titles=True), limit=3).hits
    options = [
        {
            "value": course_value(h.course),
            "label": f"{h.course.title} ({euro(h.course.price_cents or 0)})"[:60],
        }
        for h in hits
    ]
    says = []
    if hits:
        says.append(Say("loop_courses_found", {"count": len(hits)}))
        if budget and any((h.course.price_cents or 0) > budget for h in hits):
            says.append(Say("loop_budget_note", {"amount": euro(budget)}))
    else:
        says.append(Say("loop_no_courses"))
    return ActionResult(slots={"loop_options": options}, say=says)


def _plan_steps(
    today: date, deadline: date, course: CourseRecord | None, goal: str
) -> list[tuple[str, dict[str, Any], date]]:
    """(text key, values, due date) of each step."""
    if course is not None:
        start = course.next_start(today) or today + timedelta(days=14)
        midway = start + (deadline - start) / 2
        apply_on = max(midway + timedelta(days=1), deadline - timedelta(days=14))
        values = {"course": course.title}
        return [
            ("loop_step_enroll", values, min(today + timedelta(days=7), start)),
            ("loop_step_start", values, start),
            ("loop_step_midway", values, midway),
            ("loop_step_apply", values, apply_on),
            ("loop_step_reflect", {}, deadline),
        ]
    midway = today + (deadline - today) / 2
    return [
        ("loop_step_talk", {"goal": goal}, today + timedelta(days=7)),
        ("loop_step_try", {"goal": goal}, today + timedelta(days=14)),
        ("loop_step_feedback", {}, max(midway, today + timedelta(days=15))),
        ("loop_step_reflect", {}, deadline),
    ]


@action("loop_plan")
async def loop_plan(ctx: ActionContext) -> ActionResult:
    """Turn the answers into dated steps, show the plan, and keep it in slots until saved."""
    today = ctx.now.date()
    slots = ctx.slots
    deadline = today + timedelta(days=DEADLINES.get(str(slots.get("loop_when")), 91))
    index = await course_index(ctx.session, today)
    course = chosen_course(index, slots.get("loop_activity"))
    says: list[Say] = []
    if course is not None:
        start = course.next_start(today)
        if start is not None and start + timedelta(weeks=COURSE_WEEKS_AFTER_START) > deadline:
            deadline = start + timedelta(weeks=COURSE_WEEKS_AFTER_START)
            says.append(Say("loop_deadline_moved", {"date": day(deadline)}))
    goal = str(slots.get("loop_goal_text"))
    steps = _plan_steps(today, deadline, course, goal)
    lines = [
        Say("loop_plan_step", {"n": n, "step": Say(key, values), "date": day(due)})
        for n, (key, values, due) in enumerate(steps, start=1)
    ]
    activity = (
        Say("loop_activity_course", {"course": course.title})
        if course
        else Say("loop_activity_practice")
    )
    says.append(
        Say(
            "loop_plan",
            {"goal": goal, "deadline": day(deadline), "activity": activity, "lines": lines},
        )
    )
    return ActionResult(
        slots={
            "loop_deadline": deadline.isoformat(),
            "loop_course_pk": course.pk if course else None,
            "loop_course_title": course.title if course else None,
            "loop_steps": [
                {"key": key, "values": values, "due": due.isoformat()} for key, values, due in steps
            ],
            "loop_has_course": course is not None,
        },
        say=says,
    )


@action("loop_save")
async def loop_save(ctx: ActionContext) -> ActionResult:
    """Save the loop (any earlier active loop was stopped by the user before)."""
    slots = ctx.slots
    why = None if dont_know(slots.get("loop_why")) else slots.get("loop_why")
    apply_plan = None if dont_know(slots.get("loop_apply")) else slots.get("loop_apply")
    loop = LearningLoop(
        user_id=ctx.user.id,
        goal=str(slots.get("loop_goal_text")),
        why=why,
        deadline=date.fromisoformat(str(slots.get("loop_deadline"))),
        activity="course" if slots.get("loop_course_pk") else PRACTICE,
        course_pk=slots.get("loop_course_pk"),
        course_title=slots.get("loop_course_title"),
        apply_plan=apply_plan,
        created_at=ctx.now,
        steps=[
            LoopStep(
                user_id=ctx.user.id,
                position=n,
                key=step["key"],
                values=step["values"],
                due_on=date.fromisoformat(step["due"]),
            )
            for n, step in enumerate(slots.get("loop_steps") or [], start=1)
        ],
    )
    ctx.session.add(loop)
    await ctx.session.flush()
    first = loop.steps[0]
    return ActionResult(
        say=[
            Say(
                "loop_saved",
                {"step": Say(first.key, first.values), "date": day(first.due_on)},
            )
        ],
    )


@action("loop_prepare_booking")
async def loop_prepare_booking(ctx: ActionContext) -> ActionResult:
    """Book the loop's course next (the booking flow then skips choosing)."""
    course_pk = ctx.slots.get("loop_course_pk")
    return ActionResult(slots={"enroll_preset": f"c{course_pk}" if course_pk else None})


def _status_lines(loop: LearningLoop) -> list[Say]:
    lines = []
    for step in loop.steps:
        key = "loop_status_done" if step.done_at else "loop_status_open"
        lines.append(
            Say(
                key,
                {"n": step.position, "step": Say(step.key, step.values), "date": day(step.due_on)},
            )
        )
    return lines


@action("loop_show")
async def loop_show(ctx: ActionContext) -> ActionResult:
    """Where the worker is in their loop, and the next step."""
    loop = await active_loop(ctx)
    if loop is None:
        return ActionResult(slots={"loop_exists": False}, say=[Say("loop_none")])
    next_step = next((s for s in loop.steps if s.done_at is None), None)
    done = sum(1 for s in loop.steps if s.done_at)
    says = [
        Say(
            "loop_status",
            {
                "goal": loop.goal,
                "deadline": day(loop.deadline),
                "done": done,
                "total": len(loop.steps),
                "lines": _status_lines(loop),
            },
        )
    ]
    if next_step is not None:
        late = next_step.due_on < ctx.now.date()
        says.append(
            Say(
                "loop_next_late" if late else "loop_next",
                {"step": Say(next_step.key, next_step.values), "date": day(next_step.due_on)},
            )
        )
    return ActionResult(slots={"loop_exists": True, "loop_all_done": next_step is None}, say=says)


def _step_number(text: str, total: int) -> int | None:
    """ "stap 2 is af" / "module 2 klaar": a number that can be a step."""
    for word in text.replace(".", " ").split():
        if word.isdigit() and 1 <= int(word) <= total:
            return int(word)
    return None


@action("loop_tick")
async def loop_tick(ctx: ActionContext) -> ActionResult:
    """Tick off a step from free text: the step with the number named, else the next open one."""
    loop = await active_loop(ctx)
    if loop is None:
        return ActionResult(slots={"loop_exists": False}, say=[Say("loop_none")])
    open_steps = [s for s in loop.steps if s.done_at is None]
    if not open_steps:
        return ActionResult(slots={"loop_exists": True, "loop_all_done": True})
    text = str(ctx.slots.get("progress_text") or "")
    number = _step_number(text, len(loop.steps))
    step = next((s for s in open_steps if s.position == number), open_steps[0])
    step.done_at = ctx.now
    says = [Say("loop_ticked", {"step": Say(step.key, step.values)})]
    remaining = [s for s in open_steps if s is not step]
    if remaining:
        nxt = remaining[0]
        says.append(Say("loop_next", {"step": Say(nxt.key, nxt.values), "date": day(nxt.due_on)}))
    # progress_text is used once: a later tick by button starts clean.
    slots = {"loop_exists": True, "loop_all_done": not remaining, "progress_text": None}
    return ActionResult(slots=slots, say=says)


@action("loop_complete")
async def loop_complete(ctx: ActionContext) -> ActionResult:
    """Close the loop with what was learned and applied; add the achievement."""
    loop = await active_loop(ctx)
    if loop is None:
        return ActionResult(say=[Say("loop_none")])
    for step in loop.steps:
        step.done_at = step.done_at or ctx.now
    learned = ctx.slots.get("loop_learned")
    applied = ctx.slots.get("loop_applied")
    loop.learned = None if dont_know(learned) else str(learned)
    loop.applied = None if dont_know(applied) else str(applied)
    loop.status = LoopStatus.COMPLETED
    loop.completed_at = ctx.now
    await add_achievement(
        session=ctx.session,
        user=ctx.user,
        kind="loop_completed",
        title=loop.goal,
        earned_on=ctx.now.date(),
    )
    return ActionResult(say=[Say("loop_completed", {"goal": loop.goal})])
