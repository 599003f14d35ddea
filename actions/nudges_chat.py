"""What the nudge flows call: settings (day, time, how often, quiet hours, pause, stop), one-off
reminders from free text, the buttons under a nudge, and team messages from a manager."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from actions._registry import ActionContext, ActionResult, Say, action
from actions.formatting import day, day_month
from actions.phrases import clock_minute, swap_pronouns
from core.models import LoopStep, OutboxMessage, Reminder, Team
from services.nudges import (
    add_reminder,
    create_campaign,
    ensure_preference,
    member_count,
    out_of_quiet_hours,
    preference,
    schedule_chosen,
    stop_all,
    team_reach,
    upcoming_reminders,
)
from services.teams import managed_teams

WEEKDAYS = ("d0", "d1", "d2", "d3", "d4", "d5", "d6")
_WEEKDAY_WORDS = {
    "maandag": 0,
    "dinsdag": 1,
    "woensdag": 2,
    "donderdag": 3,
    "vrijdag": 4,
    "zaterdag": 5,
    "zondag": 6,
}
TIMES = {
    "t0800": 8 * 60,
    "t0900": 9 * 60,
    "t1230": 12 * 60 + 30,
    "t1700": 17 * 60,
    "t1930": 19 * 60 + 30,
}
EVERY = {"weekly": 7, "fortnightly": 14, "daily": 1}
QUIET = {"q2108": (21 * 60, 8 * 60), "q2207": (22 * 60, 7 * 60), "q2009": (20 * 60, 9 * 60)}
PAUSE = {"p1w": 7, "p2w": 14, "p1m": 30}
_ABOUT_RE = re.compile(r"\baan\s+(?P<about>.+?)[.!?]*$", re.IGNORECASE)
DEFAULT_REMINDER_MINUTE = 9 * 60


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _weekday_key(weekday: int) -> str:
    return f"weekday_{weekday}"


def _when(on: date, today: date) -> Say:
    """vandaag, morgen, or vrijdag 6 maart."""
    if on == today:
        return Say("when_today")
    if on == today + timedelta(days=1):
        return Say("when_tomorrow")
    weekday = Say(_weekday_key(on.weekday()))
    return Say("when_day", {"weekday": weekday, "date": day_month(on, today)})


def _reminder_lines(reminders: list[Reminder], ctx: ActionContext) -> list[Say]:
    today = ctx.now.date()
    lines = []
    for reminder in reminders:
        due = reminder.due_at.astimezone(ZoneInfo(ctx.settings.timezone))
        values: dict[str, Any] = {
            "when": _when(due.date(), today),
            "time": _clock(due.hour * 60 + due.minute),
            "about": reminder.about,
        }
        key = "nudges_reminder_line" if reminder.about else "nudges_reminder_line_plain"
        lines.append(Say(key, values))
    return lines


async def _settings_says(ctx: ActionContext) -> list[Say]:
    pref = await preference(ctx.session, ctx.user)
    if pref is None:
        return [Say("nudges_none_yet")]
    if pref.stopped:
        return [Say("nudges_are_stopped")]
    if pref.every_days <= 0:
        return [Say("nudges_personal_off")]
    every = {7: "nudges_every_week", 14: "nudges_every_fortnight", 1: "nudges_every_day"}
    says = [
        Say(
            "nudges_settings",
            {
                "every": Say(every.get(pref.every_days, "nudges_every_week")),
                "weekday": Say(_weekday_key(pref.weekday)),
                "time": _clock(pref.at_minute),
                "quiet_start": _clock(pref.quiet_start),
                "quiet_end": _clock(pref.quiet_end),
            },
        )
    ]
    if pref.paused_until is not None and pref.paused_until >= ctx.now.date():
        says.append(Say("nudges_paused_until", {"date": day(pref.paused_until)}))
    return says


@action("nudges_show")
async def nudges_show(ctx: ActionContext) -> ActionResult:
    """The settings, and the one-off reminders still to come."""
    pref = await preference(ctx.session, ctx.user)
    says = await _settings_says(ctx)
    reminders = await upcoming_reminders(ctx.session, ctx.user, ctx.now)
    if reminders:
        says.append(Say("nudges_reminders", {"lines": _reminder_lines(reminders, ctx)}))
    return ActionResult(
        slots={"nudges_on": pref is not None and not pref.stopped and pref.every_days > 0},
        say=says,
    )


_UNIT_DAYS = {"dag": 1, "weekday": 1, "week": 7, "maand": 30, "jaar": 365}


def every_days(frequency: dict[str, Any]) -> int:
    """Days between nudges for a frequency the NLU resolved: "elke maand" -> 30,
    "om de drie weken" -> 21, "twee keer per week" -> 3."""
    days = _UNIT_DAYS.get(str(frequency.get("unit")), 7) * max(1, int(frequency.get("every", 1)))
    times = max(1, int(frequency.get("times", 1)))
    return max(1, days // times)


def _local_due(ctx: ActionContext, on: date, minute: int) -> datetime:
    zone = ZoneInfo(ctx.settings.timezone)
    return datetime.combine(on, time(minute // 60, minute % 60), tzinfo=zone)


@action("reminder_from_text")
async def reminder_from_text(ctx: ActionContext) -> ActionResult:
    """ "herinner me vrijdag om 9 uur aan mijn examen" -> a one-off reminder;
    "elke maandag om half negen" -> the weekly nudge on that day and time."""
    slots = ctx.slots
    text = str(slots.get("reminder_text") or "")
    on = slots.get("reminder_date")
    at = slots.get("reminder_time")
    frequency: dict[str, Any] = dict(slots.get("reminder_frequency") or {})
    minute = None
    if isinstance(at, str) and re.fullmatch(r"\d{2}:\d{2}", at):
        minute = int(at[:2]) * 60 + int(at[3:])
    if frequency:
        pref = await ensure_preference(ctx.session, ctx.user)
        pref.stopped = False
        pref.every_days = every_days(frequency)
        weekday = _WEEKDAY_WORDS.get(str(frequency.get("weekday") or ""))
        if weekday is not None:
            pref.weekday = weekday
        if minute is not None:
            pref.at_minute = minute
        schedule_chosen(pref, ctx.now)
        return ActionResult(slots={"reminder_done": True}, say=await _settings_says(ctx))
    if on is None and minute is None:
        return ActionResult(slots={"reminder_done": False})
    local_now = ctx.now.astimezone(ZoneInfo(ctx.settings.timezone))
    minute = DEFAULT_REMINDER_MINUTE if minute is None else minute
    if isinstance(on, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", on):
        target = date.fromisoformat(on)
    else:
        target = local_now.date()
        if local_now.hour * 60 + local_now.minute >= minute:
            target += timedelta(days=1)
    due = _local_due(ctx, target, minute)
    if due <= local_now:
        return ActionResult(slots={"reminder_done": True}, say=[Say("reminder_in_past")])
    found = _ABOUT_RE.search(text)
    about = swap_pronouns(found["about"]) if found else ""
    await add_reminder(ctx.session, ctx.user, about, due)
    key = "reminder_set_about" if about else "reminder_set"
    values = {"when": _when(target, local_now.date()), "time": _clock(minute), "about": about}
    return ActionResult(slots={"reminder_done": True}, say=[Say(key, values)])


@action("nudges_apply_choice")
async def nudges_apply_choice(ctx: ActionContext) -> ActionResult:
    """Store what the user picked in the settings menu."""
    slots = ctx.slots
    pref = await ensure_preference(ctx.session, ctx.user)
    typed = slots.get("nudge_time")
    if typed is not None and typed not in TIMES:  # a time typed instead of a button
        minute = clock_minute(typed)
        if minute is None:
            return ActionResult(
                slots={"nudge_time_bad": True, "nudge_time": None},
                say=[Say("nudges_time_unclear")],
            )
        pref.at_minute = minute
        pref.stopped = False
        schedule_chosen(pref, ctx.now)
        if pref.every_days <= 0:
            pref.every_days = 7
    for slot, table, field in (
        ("nudge_weekday", {k: i for i, k in enumerate(WEEKDAYS)}, "weekday"),
        ("nudge_time", TIMES, "at_minute"),
        ("nudge_every", EVERY, "every_days"),
    ):
        value = slots.get(slot)
        if value in table:
            setattr(pref, field, table[str(value)])
            pref.stopped = False
            schedule_chosen(pref, ctx.now)
            if pref.every_days <= 0:  # choosing a day or time means: yes, nudge me
                pref.every_days = 7
    quiet = slots.get("nudge_quiet")
    if quiet in QUIET:
        pref.quiet_start, pref.quiet_end = QUIET[str(quiet)]
    pause = slots.get("nudge_pause")
    if pause in PAUSE:
        pref.paused_until = ctx.now.date() + timedelta(days=PAUSE[str(pause)])
    # Each choice is applied once: the next visit to the menu starts with none.
    chosen: dict[str, Any] = dict.fromkeys(
        ("nudge_weekday", "nudge_time", "nudge_every", "nudge_quiet", "nudge_pause")
    )
    chosen["nudge_time_bad"] = False
    return ActionResult(slots=chosen, say=[Say("nudges_saved"), *await _settings_says(ctx)])


@action("nudges_known")
async def nudges_known(ctx: ActionContext) -> ActionResult:
    """Has the user already chosen about nudges? Then the onboarding does not ask again."""
    return ActionResult(
        slots={"nudges_chosen": await preference(ctx.session, ctx.user) is not None}
    )


@action("nudges_decline")
async def nudges_decline(ctx: ActionContext) -> ActionResult:
    """No personal nudges (remembered, so we do not ask again); team messages still come
    unless the user stops them too."""
    pref = await ensure_preference(ctx.session, ctx.user)
    pref.every_days = 0
    return ActionResult()


@action("nudges_default_on")
async def nudges_default_on(ctx: ActionContext) -> ActionResult:
    """The onboarding default: once a week, Monday morning."""
    pref = await ensure_preference(ctx.session, ctx.user)
    pref.stopped = False
    schedule_chosen(pref, ctx.now)
    return ActionResult(say=[Say("nudges_on_default")])


@action("nudges_stop")
async def nudges_stop(ctx: ActionContext) -> ActionResult:
    await stop_all(ctx.session, ctx.user)
    return ActionResult(say=[Say("nudges_stopped")])


@action("nudges_restart")
async def nudges_restart(ctx: ActionContext) -> ActionResult:
    pref = await ensure_preference(ctx.session, ctx.user)
    pref.stopped = False
    pref.paused_until = None
    schedule_chosen(pref, ctx.now)
    if pref.every_days <= 0:
        pref.every_days = 7
    return ActionResult(say=[Say("nudges_restarted"), *await _settings_says(ctx)])


@action("nudge_answer")
async def nudge_answer(ctx: ActionContext) -> ActionResult:
    """A button under a nudge: done (ticks the loop step it was about), later (tomorrow), stop."""
    parts = str(ctx.slots.get("nudge_args") or "").split()
    verb = parts[0] if parts else ""
    message = None
    if len(parts) > 1 and parts[1].isdigit():
        message = await ctx.session.get(OutboxMessage, int(parts[1]))
        if message is not None and message.user_id != ctx.user.id:
            message = None
    if verb == "stop":
        await stop_all(ctx.session, ctx.user)
        return ActionResult(say=[Say("nudges_stopped")])
    if verb == "later":
        about = ""
        if message is not None:
            about = str(message.payload.get("values", {}).get("about") or "")
        pref = await preference(ctx.session, ctx.user)
        due = out_of_quiet_hours(ctx.now + timedelta(days=1), pref, ctx.settings.timezone)
        await add_reminder(ctx.session, ctx.user, about, due)
        return ActionResult(say=[Say("nudge_later")])
    if verb == "done":
        step_id = (message.payload.get("values", {}) if message else {}).get("step_id")
        if step_id:
            step = await ctx.session.get(LoopStep, int(step_id))
            if step is not None and step.user_id == ctx.user.id and step.done_at is None:
                step.done_at = ctx.now
        return ActionResult(say=[Say("nudge_done")])
    return ActionResult(say=[Say("stale_button")])


# ------------------------------------------------------------------ team messages


@action("team_message_check")
async def team_message_check(ctx: ActionContext) -> ActionResult:
    teams = await managed_teams(ctx.session, ctx.user)
    if not teams:
        return ActionResult(slots={"can_message_team": False}, say=[Say("team_not_manager")])
    team = teams[0]
    members = await member_count(ctx.session, team.id)
    return ActionResult(
        slots={
            "can_message_team": True,
            "message_team_id": team.id,
            "message_team_name": team.name,
            "message_team_size": members,
        }
    )


@action("team_message_send")
async def team_message_send(ctx: ActionContext) -> ActionResult:
    team = await ctx.session.get(Team, int(ctx.slots.get("message_team_id") or 0))
    text = str(ctx.slots.get("team_message_text") or "").strip()
    if team is None or not text:
        return ActionResult(say=[Say("team_gone")])
    await create_campaign(ctx.session, team, text[:1000], ctx.now, sender_id=ctx.user.id)
    reach = await team_reach(ctx.session, team.id)
    values: dict[str, Any] = {"reached": reach.reached, "members": reach.members}
    says = [Say("team_message_queued", values)]
    if reach.opted_out:
        says.append(Say("team_message_opted_out", {"count": reach.opted_out}))
    if reach.blocked:
        says.append(Say("team_message_blocked", {"count": reach.blocked}))
    says.append(Say("team_message_follow"))
    return ActionResult(say=says)
