"""What the wallet flows call: show the balance and history, book a course, cancel or complete
a booking, join a team, and the team overview for managers."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from actions._registry import ActionContext, ActionResult, Say, action
from actions.courses import chosen_course, course_value, suggest
from actions.formatting import day, euro
from actions.phrases import asks_expiry
from actions.pictures import wallet_picture
from core.models import Booking, BookingStatus, Campaign, FundSource, TeamRole
from knowledge import SearchQuery, open_regulations
from knowledge.search import CourseRecord
from services.ledger import Shortfall
from services.nudges import latest_campaign, team_reach
from services.outbox import campaign_counts
from services.teams import join_team, managed_teams, team_by_code, team_summary
from services.wallet import (
    EXPIRY_WARNING_DAYS,
    WalletError,
    WalletSummary,
    book,
    budget,
    cancel_booking,
    complete_booking,
    eligible_for_course,
    history,
    spendable,
    summary,
)

HISTORY_PAGE = 5
ALTERNATIVES = 3
ALTERNATIVES_POOL = 40
CANCEL = "cancel"


_SOURCE_KEYS = {
    FundSource.EMPLOYER: "wallet_source_employer",
    FundSource.SECTOR_FUND: "wallet_source_sector_fund",
    FundSource.GOVERNMENT: "wallet_source_government",
    FundSource.OWN: "wallet_source_own",
}


def _source(source: FundSource) -> Say:
    return Say(_SOURCE_KEYS[source])


def _expiry_answer(wallet: WalletSummary, empty: bool) -> Say:
    """The answer to "wanneer vervalt mijn budget?", in one line."""
    if empty or not wallet.available_cents:
        return Say("wallet_expiry_answer_empty")
    if not wallet.expiries:
        return Say("wallet_expiry_answer_never")
    first = wallet.expiries[0]
    values = {"date": day(first.expires_on), "amount": euro(first.cents), "funder": first.funder}
    return Say("wallet_expiry_answer", values)


def _expiry_lines(wallet: WalletSummary, today: date) -> list[Say]:
    """What expires when, soonest first; money expiring within two months is marked."""
    horizon = today + timedelta(days=EXPIRY_WARNING_DAYS)
    lines = [
        Say(
            "wallet_expiry_line_soon" if e.expires_on <= horizon else "wallet_expiry_line",
            {"date": day(e.expires_on), "amount": euro(e.cents), "funder": e.funder},
        )
        for e in wallet.expiries
    ]
    if wallet.never_expires_cents:
        lines.append(Say("wallet_expiry_never", {"amount": euro(wallet.never_expires_cents)}))
    return lines


@action("wallet_show")
async def wallet_show(ctx: ActionContext) -> ActionResult:
    """The balance: total, per source, what expires when, earmarks, reservations,
    achievements. Asked when money expires, that answer comes first."""
    today = ctx.now.date()
    wallet = await summary(ctx.session, ctx.user, today)
    says: list[Say] = []
    empty = not wallet.sources and not wallet.reserved_cents and not wallet.spent_cents
    if asks_expiry(ctx.slots.get("wallet_text")):
        says.append(_expiry_answer(wallet, empty))
    if wallet.is_demo:
        says.append(Say("wallet_demo"))
    if empty:
        says.append(Say("wallet_empty"))
    else:
        sources = [
            Say(
                "wallet_source_line",
                {"funder": s.funder, "kind": _source(s.source), "amount": euro(s.available_cents)},
            )
            for s in wallet.sources
        ]
        total = euro(wallet.available_cents)
        says.append(Say("wallet_total", {"amount": total, "lines": sources or [Say("nothing")]}))
        if wallet.expiries:
            says.append(Say("wallet_expiries", {"lines": _expiry_lines(wallet, today)}))
        if wallet.earmarked:
            earmarks = [
                Say("wallet_earmark", {"amount": euro(e.cents), "earmark": e.earmark})
                for e in wallet.earmarked
            ]
            says.append(Say("wallet_earmarks", {"lines": earmarks}))
        if wallet.reserved_cents:
            says.append(Say("wallet_reserved", {"amount": euro(wallet.reserved_cents)}))
    if wallet.achievements:
        lines = [
            Say(
                "wallet_achievement_loop" if a.kind == "loop_completed" else "wallet_achievement",
                {"title": a.title, "date": day(a.earned_on)},
            )
            for a in wallet.achievements
        ]
        says.append(Say("wallet_achievements", {"lines": lines}))
    reserved = [b for b in wallet.bookings if b.status == BookingStatus.RESERVED]
    picture = await wallet_picture(ctx, wallet)
    return ActionResult(
        slots={"wallet_has_bookings": bool(reserved)},
        say=says,
        attachments=[picture] if picture else [],
    )


_HISTORY_KEYS = {
    "credit": "history_credit",
    "reserve": "history_reserve",
    "release": "history_release",
    "expired": "history_expired",
}


@action("wallet_history_page")
async def wallet_history_page(ctx: ActionContext) -> ActionResult:
    """The next few money moves, newest first."""
    offset = int(ctx.slots.get("history_offset") or 0)
    lines = await history(ctx.session, ctx.user, ctx.now.date())
    if not lines:
        return ActionResult(slots={"history_more": False}, say=[Say("history_empty")])
    page = lines[offset : offset + HISTORY_PAGE]
    texts = [
        Say(
            _HISTORY_KEYS[line.kind],
            {"date": day(line.on), "amount": euro(abs(line.cents)), "text": line.text},
        )
        for line in page
    ]
    says = [Say("history_page" if offset == 0 else "history_page_more", {"lines": texts})]
    shown = offset + len(page)
    return ActionResult(
        slots={"history_offset": shown, "history_more": shown < len(lines)}, say=says
    )


@action("wallet_history_reset")
async def wallet_history_reset(ctx: ActionContext) -> ActionResult:
    return ActionResult(slots={"history_offset": 0})


# ------------------------------------------------------------------ booking


def _option(number: int, record: CourseRecord) -> dict[str, str]:
    """A button for a course, numbered as in the list the user just saw."""
    price = euro(record.price_cents or 0)
    title = record.title if len(record.title) <= 40 else record.title[:39] + "…"
    return {"value": course_value(record), "label": f"{number}. {title} ({price})"}


@action("enroll_candidates")
async def enroll_candidates(ctx: ActionContext) -> ActionResult:
    """Courses to book: one chosen before (a learning loop's course), those just shown in a
    search, or the best matches of what was asked."""
    preset = ctx.slots.get("enroll_preset")
    if preset:
        return ActionResult(
            slots={
                "enroll_preset": None,
                "enroll_options": [],
                "enroll_has_options": True,
                "enroll_single": True,
                "enroll_choice": preset,
            }
        )
    index = await ctx.knowledge.course_index(ctx.session, ctx.now.date())
    by_key = {(c.provider_id, c.course_id): c for c in index.courses}
    shown = [
        by_key[(r["provider_id"], r["course_id"])]
        for r in ctx.slots.get("course_results") or []
        if (r["provider_id"], r["course_id"]) in by_key
    ]
    text = str(ctx.slots.get("enroll_text") or "")
    if not shown and index.query_words(text):
        hits = index.search(SearchQuery(text=text, distinct_titles=True), limit=3).hits
        shown = [h.course for h in hits]
    first = int(ctx.slots.get("course_offset") or len(shown)) - len(shown) + 1 if shown else 1
    options = [_option(first + i, c) for i, c in enumerate(shown)]
    return ActionResult(
        slots={
            "enroll_options": options,
            "enroll_has_options": bool(options),
            "enroll_single": False,
        }
    )


@action("enroll_check")
async def enroll_check(ctx: ActionContext) -> ActionResult:
    """Price, what remains after booking, or how much is missing and what could help."""
    today = ctx.now.date()
    index = await ctx.knowledge.course_index(ctx.session, today)
    course = chosen_course(index, ctx.slots.get("enroll_choice"))
    if course is None:
        return ActionResult(slots={"enroll_fits": False, "enroll_gone": True})
    price = course.price_cents or 0
    have = await spendable(ctx.session, ctx.user, today, eligible_for_course(course))
    values = {
        "title": course.title,
        "price": euro(price),
        "left": euro(have - price),
        "available": euro(have),
        "missing": euro(price - have),
    }
    slots: dict[str, Any] = {"enroll_gone": False, "enroll_fits": have >= price}
    if have >= price:
        return ActionResult(slots=slots, say=[Say("enroll_confirm", values)])
    says = [Say("enroll_short", values)]
    helpers = await open_regulations(ctx.session, today, kinds=("lening", "budget", "fonds"))
    if helpers:
        lines = [Say("enroll_help_line", {"title": r.title}) for r in helpers]
        says.append(Say("enroll_help", {"lines": lines}))
    return ActionResult(slots=slots, say=says)


@action("enroll_book")
async def enroll_book(ctx: ActionContext) -> ActionResult:
    """Reserve the money and record the booking."""
    today = ctx.now.date()
    index = await ctx.knowledge.course_index(ctx.session, today)
    course = chosen_course(index, ctx.slots.get("enroll_choice"))
    if course is None:
        return ActionResult(say=[Say("enroll_gone")])
    result = await book(
        session=ctx.session,
        user=ctx.user,
        title=course.title,
        price_cents=course.price_cents or 0,
        today=today,
        course_pk=course.pk,
        provider=course.provider_name,
        eligible=eligible_for_course(course),
    )
    if isinstance(result, Shortfall):  # spent elsewhere in the meantime
        return ActionResult(say=[Say("enroll_short_now", {"missing": euro(result.missing_cents)})])
    left = await spendable(ctx.session, ctx.user, today)
    values = {"title": course.title, "price": euro(result.price_cents), "left": euro(left)}
    return ActionResult(
        slots={"enroll_choice": None, "course_results": []},
        say=[Say("enroll_booked", values), *_how_to_start(course, today)],
    )


def _how_to_start(course: CourseRecord, today: date) -> list[Say]:
    """After booking: where to register, and when it starts."""
    provider = {"provider": course.provider_name, "url": course.url or ""}
    says = [Say("enroll_register" if course.url else "enroll_register_no_link", provider)]
    start = course.next_start(today)
    if start is not None:
        says.append(Say("enroll_starts", {"date": day(start)}))
    else:
        says.append(Say("enroll_start_unknown", provider))
    says.append(Say("enroll_after"))
    return says


@action("enroll_alternatives")
async def enroll_alternatives(ctx: ActionContext) -> ActionResult:
    """The chosen course costs too much: similar courses the wallet can pay for."""
    today = ctx.now.date()
    index = await ctx.knowledge.course_index(ctx.session, today)
    course = chosen_course(index, ctx.slots.get("enroll_choice"))
    text = " ".join([course.title, *course.topics]) if course else ""
    text = text or str(ctx.slots.get("enroll_text") or "")
    wallet = await budget(ctx.session, ctx.user, today)
    hits = index.search(SearchQuery(text=text), limit=ALTERNATIVES_POOL).hits if text else ()
    fitting = [
        s
        for s in suggest(hits, wallet, ALTERNATIVES, exclude_pk=course.pk if course else None)
        if s.fits
    ]
    options = [_option(n, s.hit.course) for n, s in enumerate(fitting, start=1)]
    amount = {"amount": euro(wallet.total_cents)}
    if not options:
        return ActionResult(
            slots={"enroll_options": [], "enroll_has_options": False, "course_topic": None},
            say=[Say("enroll_no_alternatives", amount)],
        )
    return ActionResult(
        slots={"enroll_options": options, "enroll_has_options": True},
        say=[Say("enroll_alternatives_intro", amount)],
    )


@action("bookings_list")
async def bookings_list(ctx: ActionContext) -> ActionResult:
    """The user's reserved bookings, as buttons."""
    rows = await ctx.session.scalars(
        select(Booking)
        .where(Booking.user_id == ctx.user.id, Booking.status == BookingStatus.RESERVED)
        .order_by(Booking.id)
    )
    options = [
        {"value": f"b{b.id}", "label": f"{b.title} ({euro(b.price_cents)})"[:60]}
        for b in rows.all()
    ]
    return ActionResult(
        slots={"booking_options": options, "has_bookings": bool(options)},
        say=[] if options else [Say("bookings_none")],
    )


def _booking_id(ctx: ActionContext) -> int | None:
    choice = str(ctx.slots.get("booking_choice") or "")
    return int(choice[1:]) if choice.startswith("b") and choice[1:].isdigit() else None


@action("booking_cancel")
async def booking_cancel(ctx: ActionContext) -> ActionResult:
    booking_id = _booking_id(ctx)
    try:
        assert booking_id is not None
        booking = await cancel_booking(session=ctx.session, user=ctx.user, booking_id=booking_id)
    except (AssertionError, WalletError):
        return ActionResult(say=[Say("booking_gone")])
    left = await spendable(ctx.session, ctx.user, ctx.now.date())
    return ActionResult(
        say=[
            Say(
                "booking_cancelled",
                {"title": booking.title, "amount": euro(booking.price_cents), "left": euro(left)},
            )
        ]
    )


@action("booking_complete")
async def booking_complete(ctx: ActionContext) -> ActionResult:
    booking_id = _booking_id(ctx)
    try:
        assert booking_id is not None
        achievement = await complete_booking(
            session=ctx.session, user=ctx.user, booking_id=booking_id, today=ctx.now.date()
        )
    except (AssertionError, WalletError):
        return ActionResult(say=[Say("booking_gone")])
    return ActionResult(say=[Say("booking_completed", {"title": achievement.title})])


# ------------------------------------------------------------------ teams


@action("team_invite_check")
async def team_invite_check(ctx: ActionContext) -> ActionResult:
    """Is the `/start` argument a team invite? Then say which team, and as what."""
    code = str(ctx.slots.get("start_args") or "").strip()
    found = await team_by_code(ctx.session, code) if code else None
    if found is None:
        return ActionResult(slots={"team_invite": False})
    team, role = found
    return ActionResult(
        slots={
            "team_invite": True,
            "team_id": team.id,
            "team_name": team.name,
            "team_role": role.value,
            "team_is_manager": role == TeamRole.MANAGER,
        }
    )


@action("team_join")
async def team_join(ctx: ActionContext) -> ActionResult:
    from core.models import Team

    team = await ctx.session.get(Team, int(ctx.slots.get("team_id") or 0))
    if team is None:
        return ActionResult(say=[Say("team_gone")])
    role = TeamRole(str(ctx.slots.get("team_role") or TeamRole.MEMBER.value))
    share = ctx.slots.get("team_share") == "yes"
    await join_team(session=ctx.session, team=team, user=ctx.user, role=role, share_progress=share)
    key = "team_joined_manager" if role == TeamRole.MANAGER else "team_joined"
    return ActionResult(say=[Say(key, {"team_name": team.name})])


@action("team_overview_show")
async def team_overview_show(ctx: ActionContext) -> ActionResult:
    """For a manager: the team's totals, and the figures of members who share them."""
    managed = await managed_teams(ctx.session, ctx.user)
    if not managed:
        return ActionResult(slots={"team_is_manager_now": False}, say=[Say("team_not_manager")])
    says: list[Say] = []
    for team in managed:
        s = await team_summary(ctx.session, team, ctx.now.date())
        says.append(
            Say(
                "team_summary",
                {
                    "team_name": s.name,
                    "members": s.members,
                    "granted": euro(s.granted_cents),
                    "spent": euro(s.spent_cents),
                    "reserved": euro(s.reserved_cents),
                    "available": euro(s.available_cents),
                    "expiring": euro(s.expiring_60_days_cents),
                    "sharing": s.members_sharing,
                },
            )
        )
        if s.shared:
            lines = [
                Say(
                    "team_member_line",
                    {
                        "name": f.name or "?",
                        "spent": euro(f.spent_cents),
                        "reserved": euro(f.reserved_cents),
                        "available": euro(f.available_cents),
                    },
                )
                for f in s.shared
            ]
            says.append(Say("team_members_shared", {"lines": lines}))
        campaign = await latest_campaign(ctx.session, team.id)
        if campaign is not None:
            says.append(await _campaign_status(ctx, campaign))
    return ActionResult(slots={"team_is_manager_now": True}, say=says)


async def _campaign_status(ctx: ActionContext, campaign: Campaign) -> Say:
    """How far the team's latest message is (like GET /api/v1/nudges/{id})."""
    if campaign.queued:
        counts = await campaign_counts(ctx.session, campaign.id)
        sent, queued, opted_out = counts["sent"], counts["queued"], counts["opted_out"]
        failed = counts["failed"]
    else:  # not yet handed to the delivery engine: who it will reach
        reach = await team_reach(ctx.session, campaign.team_id)
        sent, queued, opted_out, failed = 0, reach.reached, reach.opted_out, reach.blocked
    on = campaign.send_at.astimezone(ctx.now.tzinfo).date()
    values = {"date": day(on), "sent": sent, "queued": queued, "opted_out": opted_out}
    if failed:
        return Say("team_last_message_failed", {**values, "failed": failed})
    return Say("team_last_message", values)
