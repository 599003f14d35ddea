"""Issue 19.8 in the chat: earmarked money that booking honours, suggestions that are relevant
and affordable, no dead end after "Andere cursus kiezen", how to register after booking,
progress told in plain words, a message when money arrives, delivery counts for the manager,
and Dutch plurals."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot._interpreter import NluInterpreter
from core.models import (
    Booking,
    BookingStatus,
    LearningLoop,
    LoopStatus,
    LoopStep,
    OutboxMessage,
    OutboxStatus,
    User,
)
from core.settings import Settings
from knowledge import Knowledge
from services.ledger import Earmark
from services.wallet import book
from tests.support.chat import Chat, employer_team, give

pytestmark = pytest.mark.db

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=AMS)
TODAY = NOW.date()


async def _worker(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    interpreter: NluInterpreter | None,
    who: str = "tester",
) -> Chat:
    chat = Chat.make(sessions, settings, interpreter, NOW, who=who)
    await chat.start()
    return chat


async def _money(chat: Chat, cents: int, earmark: object = None, key: str = "k1") -> int:
    team = await employer_team(chat.sessions, f"Team {key}", await chat.user())
    await give(
        chat.sessions, team, cents, TODAY + timedelta(days=300), key, today=TODAY, earmark=earmark
    )
    return team


async def _find(chat: Chat, what: str) -> None:
    await chat.say(f"/cursussen {what}")
    if "Maakt niet uit" in chat.buttons:
        await chat.press("Maakt niet uit")


@pytest.mark.parametrize(
    ("what", "earmark", "course"),
    [
        (
            "cybersecurity",
            Earmark(topics=("cybersecurity",), label="ICT-beveiliging"),
            "Cybersecurity basis",
        ),
        ("vca", Earmark(topics=("vca",), label="VCA- en BHV-cursussen"), "VCA Basis"),
        (
            "cybersecurity",
            Earmark(skills=("opzetten en beveiligen van computersystemen",)),
            "Cybersecurity basis",
        ),
    ],
)
async def test_earmarked_money_pays_for_the_courses_it_means(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    what: str,
    earmark: Earmark,
    course: str,
) -> None:
    chat = await _worker(sessions, settings, None)
    await _money(chat, 160_000, earmark)
    await _find(chat, what)
    await chat.press("Een cursus boeken")
    choice = next(label for label in chat.buttons if course in label)
    text = await chat.press(choice)
    assert "€ 0 voor deze cursus" not in text, text
    assert "Na het boeken heb je nog" in text, text


async def test_earmarked_money_does_not_pay_for_other_courses(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    chat = await _worker(sessions, settings, None)
    await _money(chat, 160_000, Earmark(topics=("vca",), label="VCA"))
    await _find(chat, "excel")
    await chat.press("Een cursus boeken")
    text = await chat.press(next(iter(chat.buttons)))
    assert "€ 0 voor deze cursus" in text, text


async def _loop_until_suggestions(chat: Chat, goal: str) -> str:
    await chat.say("/leerloop")
    await chat.say(goal)
    await chat.say("dan kan ik de servicedesk beter helpen")
    return await chat.press("Over 6 maanden")


async def test_loop_suggestions_are_relevant_and_within_budget_first(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, interpreter: NluInterpreter
) -> None:
    chat = await _worker(sessions, settings, interpreter)
    await _money(chat, 150_000)
    text = await _loop_until_suggestions(chat, "de basis van cybersecurity leren")
    labels = [label for label in chat.buttons if "€" in label]
    assert labels, text
    assert labels[0].startswith("Cybersecurity basis (€ 1.180)"), labels
    assert not any("Barista" in label or "VCA" in label for label in labels), labels


async def test_loop_says_so_when_no_course_fits_the_budget(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, interpreter: NluInterpreter
) -> None:
    chat = await _worker(sessions, settings, interpreter)
    await _money(chat, 20_000)
    text = await _loop_until_suggestions(chat, "de basis van cybersecurity leren")
    assert "€ 200" in text and "budget" in text, text
    assert "Oefenen op mijn werk" in chat.buttons


async def test_another_course_after_too_little_money_is_no_dead_end(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    chat = await _worker(sessions, settings, None)
    await _money(chat, 120_000)
    await _find(chat, "cybersecurity")
    await chat.press("Een cursus boeken")
    expensive = next(label for label in chat.buttons if "1.530" in label or "1.550" in label)
    await chat.press(expensive)
    assert "tekort" in chat.text
    text = await chat.press("Andere cursus kiezen")
    courses = [label for label in chat.buttons if "€" in label]
    assert courses, text
    assert all(
        int(label.split("€ ")[1].split(")")[0].replace(".", "")) <= 1200 for label in courses
    )
    text = await chat.press(courses[0])
    assert "Na het boeken heb je nog" in text, text


async def test_after_booking_the_bot_says_how_to_register_and_when_it_starts(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    chat = await _worker(sessions, settings, None)
    await _money(chat, 100_000)
    await _find(chat, "heftruck")
    await chat.press("Een cursus boeken")
    await chat.press(next(iter(chat.buttons)))
    text = await chat.press("Ja, boek maar")
    assert "Geboekt" in text
    assert "https://www.example.org/" in text and "inschrijven" in text.lower(), text
    assert "begint op" in text, text


async def _loop(chat: Chat, course_title: str | None = None) -> int:
    """A loop with the five steps of a course (enrol, start, midway, apply, reflect)."""
    user = await chat.user()
    async with chat.sessions() as session, session.begin():
        index = await Knowledge().course_index(session, TODAY)
        course = next((c for c in index.courses if c.title == course_title), None)
        values = {"course": course_title or ""}
        keys = [
            "loop_step_enroll",
            "loop_step_start",
            "loop_step_midway",
            "loop_step_apply",
            "loop_step_reflect",
        ]
        loop = LearningLoop(
            user_id=user.id,
            goal="de basis van cybersecurity leren",
            deadline=TODAY + timedelta(days=120),
            activity="course",
            course_pk=course.pk if course else None,
            course_title=course_title,
            created_at=NOW,
            steps=[
                LoopStep(
                    user_id=user.id,
                    position=n,
                    key=k,
                    values=values if n < 5 else {},
                    due_on=TODAY + timedelta(days=10 * n),
                )
                for n, k in enumerate(keys, start=1)
            ],
        )
        session.add(loop)
        await session.flush()
        return loop.id


async def _done_steps(chat: Chat, loop_id: int) -> list[int]:
    async with chat.sessions() as session:
        rows = await session.scalars(
            select(LoopStep.position).where(
                LoopStep.loop_id == loop_id, LoopStep.done_at.is_not(None)
            )
        )
        return sorted(rows.all())


async def test_enrolled_in_plain_words_ticks_the_enrol_step(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, interpreter: NluInterpreter
) -> None:
    chat = await _worker(sessions, settings, interpreter)
    loop_id = await _loop(chat, "Cybersecurity basis")
    text = await chat.say("ik heb me ingeschreven voor de cursus 👍")
    assert "Welke cursus wil je boeken" not in text
    assert await _done_steps(chat, loop_id) == [1], text


async def test_halfway_in_plain_words_is_progress(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, interpreter: NluInterpreter
) -> None:
    chat = await _worker(sessions, settings, interpreter)
    loop_id = await _loop(chat, "Cybersecurity basis")
    text = await chat.say("ben nu op de helft, heb geleerd hoe je een phishing mail herkent")
    assert "helaas niet mee helpen" not in text
    assert await _done_steps(chat, loop_id) == [1, 2, 3], text


async def test_papers_passed_with_a_booked_course_completes_it(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, interpreter: NluInterpreter
) -> None:
    chat = await _worker(sessions, settings, interpreter)
    await _money(chat, 100_000)
    user = await chat.user()
    async with sessions() as session, session.begin():
        index = await Knowledge().course_index(session, TODAY)
        course = next(c for c in index.courses if c.title == "Heftruckcertificaat")
        owner = await session.get(User, user.id)
        assert owner is not None
        await book(
            session=session,
            user=owner,
            title=course.title,
            price_cents=course.price_cents or 0,
            today=TODAY,
            course_pk=course.pk,
        )
    text = await chat.say("ik heb me heftruk papiere gehaald!! 🎉")
    assert "Je hebt nog geen leerloop" not in text
    assert "Heftruckcertificaat" in text, text
    if "Ja" in " ".join(chat.buttons):
        await chat.press(next(b for b in chat.buttons if b.startswith("Ja")))
    async with sessions() as session:
        booking = await session.scalar(select(Booking).where(Booking.user_id == user.id))
        assert booking is not None and booking.status == BookingStatus.COMPLETED
    assert "🏅 Heftruckcertificaat" in await chat.say("/saldo")


async def test_voortgang_after_a_finished_loop_is_not_no_loop(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    chat = await _worker(sessions, settings, None)
    loop_id = await _loop(chat, None)
    async with sessions() as session, session.begin():
        loop = await session.get(LearningLoop, loop_id)
        assert loop is not None
        loop.status = LoopStatus.COMPLETED
        loop.completed_at = NOW
    text = await chat.say("/voortgang")
    assert "Je hebt nog geen leerloop" not in text
    assert "de basis van cybersecurity leren" in text and "afgerond" in text, text


async def test_members_get_a_message_when_money_arrives_unless_they_stopped(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    anna = await _worker(sessions, settings, None, who="anna")
    bram = await _worker(sessions, settings, None, who="bram")
    await bram.say("/stop")
    team = await employer_team(sessions, "Zorg", await anna.user(), await bram.user())
    await give(sessions, team, 25_000, TODAY + timedelta(days=90), "q1", today=TODAY)
    await give(sessions, team, 25_000, TODAY + timedelta(days=90), "q1", today=TODAY)  # a repeat
    async with sessions() as session:
        rows = list(
            (
                await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "credit"))
            ).all()
        )
    by_user = {r.user_id: r for r in rows}
    assert len(rows) == 2
    assert by_user[(await anna.user()).id].status == OutboxStatus.QUEUED
    assert by_user[(await bram.user()).id].status == OutboxStatus.OPTED_OUT
    payload = by_user[(await anna.user()).id].payload
    text = anna.manager.responses.render(
        payload["key"], {**payload["values"], "amount": "€ 250", "date": "7 maart 2027"}
    )
    assert "€ 250" in text and "7 maart 2027" in text and "/saldo" in text


async def test_the_manager_sees_delivery_counts_after_a_team_message(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    anna = await _worker(sessions, settings, None, who="anna")
    bram = await _worker(sessions, settings, None, who="bram")
    await bram.say("/stop")
    team = await employer_team(sessions, "Zorg", await anna.user(), await bram.user())
    from core.models import Team

    async with sessions() as session:
        found = await session.get(Team, team)
        assert found is not None
        code = found.manager_code
    chef = Chat.make(sessions, settings, None, NOW, who="chef")
    await chef.say(f"/start mgr_{code}")
    await chef.press("Ja, dat is goed")
    await chef.press("Ja, doe mee")
    await chef.say("/team")
    await chef.press("Bericht sturen")
    await chef.say("Denk aan de cursus volgende week!")
    text = await chef.press("Versturen")
    assert "1 van de 2 leden" in text and "1 lid heeft berichten uitgezet" in text, text
    text = await chef.say("/team")
    assert "Laatste bericht" in text and "1 in de wachtrij" in text and "1 uitgezet" in text, text


async def test_plurals_in_the_team_summary_and_search(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    anna = await _worker(sessions, settings, None, who="anna")
    team = await employer_team(sessions, "Klein", await anna.user())
    from core.models import Team

    async with sessions() as session:
        found = await session.get(Team, team)
        assert found is not None
        code = found.manager_code
    chef = Chat.make(sessions, settings, None, NOW, who="chef")
    await chef.say(f"/start mgr_{code}")
    await chef.press("Ja, dat is goed")
    await chef.press("Ja, doe mee")
    text = await chef.say("/team")
    assert "1 lid" in text and "1 leden" not in text, text
    assert "0 leden" in text or "Niemand" in text, text
