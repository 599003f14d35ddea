"""Issue 19.4: money and time right — what expires when, dates in the user's time zone through
the dialogue's clock, typed times in the reminder settings, one-off reminders listed, no nudge
at once after choosing today's weekday, "Klaar" answered, possessives turned around."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot._interpreter import NluInterpreter
from core.models import NudgePreference, OutboxMessage, Reminder
from core.settings import Settings
from services.nudges import plan_personal
from tests.support.chat import Chat, employer_team, give

pytestmark = pytest.mark.db

AMS = ZoneInfo("Europe/Amsterdam")
# A Wednesday, 12:10 in Amsterdam.
WEDNESDAY_NOON = datetime(2026, 3, 4, 12, 10, tzinfo=AMS)


def _settings(settings: Settings, zone: str) -> Settings:
    return settings.model_copy(update={"timezone": zone})


async def _chat(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    interpreter: NluInterpreter,
    now: datetime = WEDNESDAY_NOON,
    zone: str = "Europe/Amsterdam",
    nudges: str = "Nee, liever niet",
) -> Chat:
    chat = Chat.make(sessions, _settings(settings, zone), interpreter, now)
    await chat.start(nudges=nudges)
    return chat


async def _wallet(chat: Chat) -> None:
    today = chat.clock.now.date()
    team = await employer_team(chat.sessions, "Magazijn", await chat.user())
    await give(chat.sessions, team, 30000, today + timedelta(days=200), "later", today=today)
    await give(chat.sessions, team, 50000, today + timedelta(days=40), "soon", today=today)
    await give(chat.sessions, team, 12000, today + timedelta(days=120), "mid", today=today)


async def test_balance_shows_every_expiry_soonest_first(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, interpreter: NluInterpreter
) -> None:
    chat = await _chat(sessions, settings, interpreter)
    await _wallet(chat)
    text = await chat.say("/saldo")
    soon, mid, later = "€ 500", "€ 120", "€ 300"
    for amount, when in (
        (soon, "13 april 2026"),
        (mid, "2 juli 2026"),
        (later, "20 september 2026"),
    ):
        assert amount in text and when in text, text
    assert text.index("13 april 2026") < text.index("2 juli 2026") < text.index("20 september 2026")


@pytest.mark.parametrize(
    "question",
    [
        "wanneer vervalt mijn budget?",
        "wanneer verloopt dat geld",
        "tot wanneer is mijn geld geldig",
    ],
)
async def test_when_does_it_expire_is_answered_in_the_first_line(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    interpreter: NluInterpreter,
    question: str,
) -> None:
    chat = await _chat(sessions, settings, interpreter)
    await _wallet(chat)
    await chat.say(question)
    first_line = chat.replies[0].text.splitlines()[0]
    assert "13 april 2026" in first_line and "€ 500" in first_line, chat.text
    assert "20 september 2026" in chat.text  # the rest follows


async def test_when_does_it_expire_without_money_says_so(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, interpreter: NluInterpreter
) -> None:
    chat = await _chat(sessions, settings, interpreter)
    await chat.say("wanneer vervalt mijn budget?")
    first_line = chat.replies[0].text.splitlines()[0]
    assert "vervalt" in first_line and "niets" in first_line, chat.text


@pytest.mark.parametrize(
    ("now", "zone", "due"),
    [
        # 12:10 in Amsterdam: "vandaag om 12:18" is in eight minutes, not tomorrow.
        (WEDNESDAY_NOON, "Europe/Amsterdam", datetime(2026, 3, 4, 11, 18, tzinfo=UTC)),
        # 22:00 in New York is already the next day in Amsterdam: "vandaag" is New York's.
        (
            datetime(2026, 3, 4, 22, 0, tzinfo=ZoneInfo("America/New_York")),
            "America/New_York",
            datetime(2026, 3, 5, 4, 18, tzinfo=UTC),
        ),
    ],
)
async def test_today_is_the_users_today_on_the_dialogues_clock(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    interpreter: NluInterpreter,
    now: datetime,
    zone: str,
    due: datetime,
) -> None:
    chat = await _chat(sessions, settings, interpreter, now=now, zone=zone)
    when = "23:18" if zone == "America/New_York" else "12:18"
    text = await chat.say(f"herinner me vandaag om {when} aan mijn examen heftruck")
    assert "vandaag" in text and when in text, text
    async with sessions() as session:
        reminders = list((await session.scalars(select(Reminder))).all())
    assert [r.due_at for r in reminders] == [due]


async def test_the_confirmation_turns_possessives_around(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, interpreter: NluInterpreter
) -> None:
    chat = await _chat(sessions, settings, interpreter)
    text = await chat.say("herinner me vrijdag om 9 uur aan mijn examen heftruck")
    assert "aan je examen heftruck" in text, text
    assert "aan:" not in text and "mijn" not in text
    text = await chat.say("herinner me morgen om 8 uur aan m'n afspraak met mijn leidinggevende")
    assert "aan je afspraak met je leidinggevende" in text, text


async def test_a_typed_time_in_the_settings_is_the_weekly_time(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, interpreter: NluInterpreter
) -> None:
    chat = await _chat(sessions, settings, interpreter, nudges="Ja, op maandagochtend")
    await chat.say("/herinneringen")
    await chat.press("Tijd")
    text = await chat.say("12:23")
    assert "op maandag om 12:23" in text, text
    async with sessions() as session:
        pref = await session.get(NudgePreference, (await chat.user()).id)
        assert pref is not None and pref.at_minute == 12 * 60 + 23
        assert list((await session.scalars(select(Reminder))).all()) == []
    await chat.say("/herinneringen")
    await chat.press("Tijd")
    text = await chat.say("half negen 's avonds")
    assert "20:30" in text, text
    await chat.say("/herinneringen")
    await chat.press("Tijd")
    text = await chat.say("geen idee")
    assert "Hoe laat?" in text and chat.buttons, text  # asked again, still in the settings


async def test_herinneringen_lists_one_off_reminders(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, interpreter: NluInterpreter
) -> None:
    chat = await _chat(sessions, settings, interpreter)
    await chat.say("herinner me vrijdag om 9 uur aan mijn examen heftruck")
    await chat.say("herinner me op 20 maart om 14:00 aan de cursus")
    text = await chat.say("/herinneringen")
    assert "je examen heftruck" in text and "vrijdag 6 maart" in text and "09:00" in text, text
    assert "de cursus" in text and "20 maart" in text and "14:00" in text
    assert text.index("6 maart") < text.index("20 maart")


async def test_choosing_todays_weekday_after_the_time_sends_nothing_at_once(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, interpreter: NluInterpreter
) -> None:
    # Wednesday 12:10; the nudge time is 09:00. Choosing Wednesday must wait a week.
    chat = await _chat(sessions, settings, interpreter, nudges="Ja, ik kies zelf")
    await chat.press("Dag")
    await chat.press("woensdag")
    async with sessions() as session, session.begin():
        assert await plan_personal(session, chat.clock(), "Europe/Amsterdam") == 0
    async with sessions() as session, session.begin():
        next_week = (WEDNESDAY_NOON + timedelta(days=7)).replace(hour=9, minute=1)
        assert await plan_personal(session, next_week.astimezone(UTC), "Europe/Amsterdam") == 1
        assert len(list((await session.scalars(select(OutboxMessage))).all())) == 1


async def test_monday_default_chosen_on_monday_afternoon_waits_a_week(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, interpreter: NluInterpreter
) -> None:
    monday = datetime(2026, 3, 2, 15, 0, tzinfo=AMS)
    chat = await _chat(sessions, settings, interpreter, now=monday, nudges="Ja, op maandagochtend")
    assert "maandag" in chat.text
    async with sessions() as session, session.begin():
        assert await plan_personal(session, chat.clock(), "Europe/Amsterdam") == 0


async def test_a_later_time_today_still_comes_today(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, interpreter: NluInterpreter
) -> None:
    chat = await _chat(sessions, settings, interpreter, nudges="Ja, ik kies zelf")
    await chat.press("Dag")
    await chat.press("woensdag")
    await chat.say("/herinneringen")
    await chat.press("Tijd")
    await chat.press("17:00")
    async with sessions() as session, session.begin():
        at_five = WEDNESDAY_NOON.replace(hour=17, minute=1)
        assert await plan_personal(session, at_five.astimezone(UTC), "Europe/Amsterdam") == 1


async def test_klaar_in_the_settings_menu_gets_a_reply(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, interpreter: NluInterpreter
) -> None:
    chat = await _chat(sessions, settings, interpreter, nudges="Ja, op maandagochtend")
    await chat.say("/herinneringen")
    text = await chat.press("Klaar")
    assert text.strip(), "no reply to Klaar"
    assert "/herinneringen" in text


def test_dates_are_today() -> None:  # keeps the fixed dates above honest
    assert WEDNESDAY_NOON.date() == date(2026, 3, 4) and WEDNESDAY_NOON.weekday() == 2
