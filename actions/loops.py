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
from actions.courses import chosen_course, course_value, suggest
from actions.formatting import day, euro
from actions.phrases import (
    looks_like,
    phrases,
    progress_step_keys,
    says_finished,
    starts_with_phrase,
)
from core.models import Booking, BookingStatus, LearningLoop, LoopStatus, LoopStep
from knowledge import SearchQuery
from knowledge.search import CourseRecord
from knowledge.text import fold
from services.wallet import WalletError, add_achievement, budget, complete_booking

DEADLINES = {"m1": 30, "m3": 91, "m6": 182, "y1": 365}
PRACTICE = "practice"
COURSE_WEEKS_AFTER_START = 8
SUGGESTIONS = 3
# The steps of a course loop that the course itself covers ("papieren gehaald" ticks them).
COURSE_STEPS = frozenset({"loop_step_enroll", "loop_step_start", "loop_step_midway"})
NAMED_SCORE = 85.0  # how well a message must name a booked course (looks_like)
SUGGEST_POOL = 40  # hits to choose the suggestions from (all variants of a title count)


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
    """Courses that fit the goal, the worker's place and budget (best three), as buttons:
    only relevant ones, those the wallet can pay for first; said so when none fits."""
    today = ctx.now.date()
    index = await ctx.knowledge.course_index(ctx.session, today)
    goal = str(ctx.slots.get("loop_goal_text") or "")
    near = None
    if ctx.user.consent and ctx.user.region:
        location = await ctx.knowledge.find_location(ctx.session, ctx.user.region)
        if location is not None and location.lat is not None and location.lon is not None:
            near = (location.lat, location.lon)
    wallet = await budget(ctx.session, ctx.user, today)
    money = wallet if wallet.total_cents > 0 else None
    base = SearchQuery(text=goal, near=near, within_km=30, include_online=True)
    hits = index.search(base, limit=SUGGEST_POOL).hits
    if not hits and near is not None:
        hits = index.search(SearchQuery(text=goal), limit=SUGGEST_POOL).hits
    suggestions = suggest(hits, money, SUGGESTIONS)
    options = [
        {
            "value": course_value(s.hit.course),
            "label": f"{s.hit.course.title} ({euro(s.hit.course.price_cents or 0)})"[:60],
        }
        for s in suggestions
    ]
    says: list[Say] = []
    fitting = sum(1 for s in suggestions if s.fits)
    if not suggestions:
        says.append(Say("loop_no_courses"))
    elif money is not None and not fitting:
        says.append(Say("loop_none_fit", {"amount": euro(wallet.total_cents)}))
    else:
        says.append(Say("loop_courses_found", {"count": len(suggestions)}))
        if fitting < len(suggestions):
            says.append(Say("loop_budget_note", {"amount": euro(wallet.total_cents)}))
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
    index = await ctx.knowledge.course_index(ctx.session, today)
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


async def last_completed_loop(ctx: ActionContext) -> LearningLoop | None:
    loop: LearningLoop | None = await ctx.session.scalar(
        select(LearningLoop)
        .where(LearningLoop.user_id == ctx.user.id, LearningLoop.status == LoopStatus.COMPLETED)
        .order_by(LearningLoop.completed_at.desc(), LearningLoop.id.desc())
        .limit(1)
    )
    return loop


@action("loop_show")
async def loop_show(ctx: ActionContext) -> ActionResult:
    """Where the worker is in their loop, and the next step; after a finished loop, that one."""
    loop = await active_loop(ctx)
    if loop is None:
        last = await last_completed_loop(ctx)
        if last is not None:
            finished = (last.completed_at or ctx.now).astimezone(ctx.now.tzinfo).date()
            values = {"goal": last.goal, "date": day(finished), "total": len(last.steps)}
            return ActionResult(
                slots={"loop_exists": False, "loop_done_before": True},
                say=[Say("loop_last_completed", values)],
            )
        return ActionResult(
            slots={"loop_exists": False, "loop_done_before": False}, say=[Say("loop_none")]
        )
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


def _steps_meant(loop: LearningLoop, text: str) -> list[LoopStep]:
    """The open steps a progress message ticks: the step with the number named; else the
    latest step its words are about ("op de helft"), with the open ones before it (being
    halfway means you started); "papieren gehaald" finishes the course steps; else the next
    open step."""
    open_steps = [s for s in loop.steps if s.done_at is None]
    number = _step_number(text, len(loop.steps))
    if number is not None:
        named = [s for s in open_steps if s.position == number]
        return named or open_steps[:1]
    keys = set(progress_step_keys(text))
    if says_finished(text) and loop.course_pk is not None:
        keys |= COURSE_STEPS
    about = [s for s in open_steps if s.key in keys]
    if about:
        last = max(s.position for s in about)
        return [s for s in open_steps if s.position <= last]
    return open_steps[:1]


async def _reserved_bookings(ctx: ActionContext) -> list[Booking]:
    rows = await ctx.session.scalars(
        select(Booking)
        .where(Booking.user_id == ctx.user.id, Booking.status == BookingStatus.RESERVED)
        .order_by(Booking.id)
    )
    return list(rows.all())


async def _booking_meant(ctx: ActionContext, text: str) -> Booking | None:
    """A booked course this message says is done ("mijn heftruck papieren gehaald")."""
    bookings = await _reserved_bookings(ctx)
    named = [(looks_like(text, b.title), b) for b in bookings]
    named = [(score, b) for score, b in named if score >= NAMED_SCORE]
    if named:
        return max(named, key=lambda pair: pair[0])[1]
    if says_finished(text) and len(bookings) == 1:
        return bookings[0]
    return None


def _booking_slots(booking: Booking | None) -> dict[str, Any]:
    if booking is None:
        return {"progress_booking": False}
    return {
        "progress_booking": True,
        "progress_booking_id": booking.id,
        "progress_booking_title": booking.title,
    }


@action("loop_tick")
async def loop_tick(ctx: ActionContext) -> ActionResult:
    """Tick off steps from free text ("stap 2 is af", "ik heb me ingeschreven", "ben op de
    helft"). Without a loop, a booked course the message names as done is offered to close."""
    text = str(ctx.slots.get("progress_text") or "")
    loop = await active_loop(ctx)
    if loop is None or all(s.done_at for s in loop.steps):
        booking = await _booking_meant(ctx, text)
        if booking is not None:
            return ActionResult(slots={"loop_exists": loop is not None, **_booking_slots(booking)})
        if loop is None:
            return ActionResult(
                slots={"loop_exists": False, "progress_booking": False}, say=[Say("loop_none")]
            )
        return ActionResult(
            slots={"loop_exists": True, "loop_all_done": True, "progress_booking": False}
        )
    ticked = _steps_meant(loop, text)
    for step in ticked:
        step.done_at = ctx.now
    says = [Say("loop_ticked", {"step": Say(s.key, s.values)}) for s in ticked]
    if loop.course_pk is not None and says_finished(text):
        for booking in await _reserved_bookings(ctx):
            if booking.course_pk == loop.course_pk:
                await complete_booking(
                    session=ctx.session, user=ctx.user, booking_id=booking.id, today=ctx.now.date()
                )
                says.append(Say("booking_completed", {"title": booking.title}))
    remaining = [s for s in loop.steps if s.done_at is None]
    if remaining:
        nxt = remaining[0]
        says.append(Say("loop_next", {"step": Say(nxt.key, nxt.values), "date": day(nxt.due_on)}))
    # progress_text is used once: a later tick by button starts clean.
    return ActionResult(
        slots={
            "loop_exists": True,
            "loop_all_done": not remaining,
            "progress_booking": False,
            "progress_text": None,
        },
        say=says,
    )


@action("progress_complete_booking")
async def progress_complete_booking(ctx: ActionContext) -> ActionResult:
    """The worker confirmed a booked course is done: settle it and add the achievement."""
    booking_id = int(ctx.slots.get("progress_booking_id") or 0)
    try:
        achievement = await complete_booking(
            session=ctx.session, user=ctx.user, booking_id=booking_id, today=ctx.now.date()
        )
    except WalletError:
        return ActionResult(say=[Say("booking_gone")])
    return ActionResult(say=[Say("booking_completed", {"title": achievement.title})])


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
