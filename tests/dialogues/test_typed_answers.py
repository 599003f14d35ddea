"""Typed answers to buttons, a greeting before a request, and menus that fit the moment (issue
19: the journeys found "3" at a rating question starting a booking, "heel goed, dat doe ik elke
dag" getting "Kies een van de knoppen", 👍 getting the out-of-scope menu)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot._interpreter import NluInterpreter
from core.models import Channel, Reflection
from core.settings import Settings
from dialogues import Answer, DialogueManager, IncomingMessage, Reply, ResponseCatalogue, encode
from dialogues._answers import AnswerPhrases, Choice, Matched, Unsure, match_answer
from services import find_user

pytestmark = pytest.mark.db
RESPONSES = ResponseCatalogue.load()
PHRASES = AnswerPhrases.load()
RATINGS = [
    Choice("r1", "1 – nog niet", "btn_rate_1"),
    Choice("r2", "2 – een beetje", "btn_rate_2"),
    Choice("r3", "3 – goed", "btn_rate_3"),
    Choice("r4", "4 – heel goed", "btn_rate_4"),
    Choice("dunno", "Weet ik niet", "btn_dont_know"),
]
CONSENT = [
    Choice("agree", "Ja, dat is goed", "btn_consent_yes", ("affirm",)),
    Choice("decline", "Nee, liever niet", "btn_consent_no", ("deny",)),
    Choice("more", "Vertel meer", "btn_consent_more"),
]


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("3", "r3"),
        ("4.", "r4"),
        ("de tweede", "r2"),
        ("heel goed, dat doe ik elke dag", "r4"),
        ("gaat wel", "r2"),
        ("niet zo goed", "r2"),
        ("best goed eigenlijk", "r3"),
        ("Een beetje!", "r2"),
        ("heel goud", "r4"),  # a typo
        ("geen idee", "dunno"),
    ],
)
def test_a_typed_rating_is_the_button_it_stands_for(typed: str, value: str) -> None:
    assert match_answer(typed, RATINGS, phrases=PHRASES) == Matched(value)


@pytest.mark.parametrize(
    ("typed", "value"),
    [("ja hoor", "agree"), ("👍", "agree"), ("oke prima", "agree"), ("nee hoor", "decline")],
)
def test_yes_and_no_in_your_own_words(typed: str, value: str) -> None:
    assert match_answer(typed, CONSENT, phrases=PHRASES) == Matched(value)


def test_no_answer_is_no_match_and_two_fits_are_unsure() -> None:
    assert match_answer("wat is het weer morgen", RATINGS, phrases=PHRASES) is None
    twins = [Choice("a", "Online cursus"), Choice("b", "Online cursus")]
    assert isinstance(match_answer("online cursus", twins, phrases=PHRASES), Unsure)


# ------------------------------------------------------------------ in a conversation


async def _send(dialogue: DialogueManager, who: str, text: str) -> list[Reply]:
    return await dialogue.handle(IncomingMessage(Channel.CONSOLE, who, text=text))


def _text(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


async def _to_the_first_rating(dialogue: DialogueManager, who: str) -> None:
    await _send(dialogue, who, "/start")
    await dialogue.handle(
        IncomingMessage(Channel.CONSOLE, who, payload=encode(Answer("consent", "ask", "agree")))
    )
    await _send(dialogue, who, "/reflectie")
    assert "1 van 6" in _text(await _send(dialogue, who, "ik ben kok"))


async def test_typed_ratings_go_through_the_whole_reflection(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, interpreter: NluInterpreter
) -> None:
    dialogue = DialogueManager(sessions=sessions, settings=settings, interpreter=interpreter)
    await _to_the_first_rating(dialogue, "typist")
    answers = ["3", "heel goed, dat doe ik elke dag", "gaat wel", "weet ik niet", "2", "4"]
    for number, typed in enumerate(answers, start=2):
        said = _text(await _send(dialogue, "typist", typed))
        assert RESPONSES.render("reprompt") not in said, typed
        assert "Zoek eerst een cursus" not in said, typed
        if number <= 6:
            assert f"{number} van 6" in said, (typed, said)
    await _send(dialogue, "typist", "dat de gasten blij zijn")
    summary = _text(await _send(dialogue, "typist", "de drukte in de keuken"))
    assert "de drukte in de keuken" in summary  # what costs energy is not ignored
    assert "Mijn tip" in summary  # one next step
    async with sessions() as session:
        user = await find_user(session=session, channel=Channel.CONSOLE, external_id="typist")
        assert user is not None
        reflection = await session.scalar(select(Reflection).where(Reflection.user_id == user.id))
        assert reflection is not None


async def test_a_greeting_before_a_request_answers_the_request(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, interpreter: NluInterpreter
) -> None:
    dialogue = DialogueManager(sessions=sessions, settings=settings, interpreter=interpreter)
    said = _text(await _send(dialogue, "polite", "Goedemiddag, ik zoek een cursus boekhouden"))
    assert RESPONSES.render("greet_back") not in said
    assert "Waar wil je de cursus volgen?" in said or "cursus" in said.casefold()


async def test_a_thumbs_up_without_a_question_is_acknowledged_briefly(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, interpreter: NluInterpreter
) -> None:
    dialogue = DialogueManager(sessions=sessions, settings=settings, interpreter=interpreter)
    replies = await _send(dialogue, "thumbs", "👍")
    said = _text(replies)
    assert RESPONSES.render("acknowledged") in said
    assert "helaas niet mee helpen" not in said
    assert sum(len(r.buttons) for r in replies) == 3  # a short menu, not all of it


async def test_the_full_menu_only_on_help_or_after_real_confusion(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, interpreter: NluInterpreter
) -> None:
    dialogue = DialogueManager(sessions=sessions, settings=settings, interpreter=interpreter)
    help_line = "/privacy – " + RESPONSES.render("menu_privacy_description")
    greeted = await _send(dialogue, "menus", "hallo")
    assert help_line not in _text(greeted)
    assert sum(len(r.buttons) for r in greeted) == 3
    assert help_line in _text(await _send(dialogue, "menus", "/help"))
    first = _text(await _send(dialogue, "menus", "blablabla qwerty"))
    assert help_line not in first
    # Not understood again and again: now everything, once.
    later = [_text(await _send(dialogue, "menus", line)) for line in ("zzz qqq", "xxx yyy")]
    assert [t.count(help_line) for t in later][-1] == 1


async def test_an_unclear_typed_answer_stays_in_the_flow(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, interpreter: NluInterpreter
) -> None:
    dialogue = DialogueManager(sessions=sessions, settings=settings, interpreter=interpreter)
    await _to_the_first_rating(dialogue, "unclear")
    said = _text(await _send(dialogue, "unclear", "hmm lastig te zeggen"))
    assert "1 van 6" in said  # the same question again, with its buttons
    assert "2 van 6" in _text(await _send(dialogue, "unclear", "3"))
