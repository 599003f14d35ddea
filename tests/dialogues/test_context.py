"""What was said feeds the next question (issue 19 item 3): a first message with a goal starts
there, a wish for other work shows the route, a job said once is not asked again."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actions.loops import goal_in
from bot._interpreter import NluInterpreter
from core.models import Channel
from core.settings import Settings
from dialogues import Answer, DialogueManager, IncomingMessage, ResponseCatalogue, encode

pytestmark = pytest.mark.db
RESPONSES = ResponseCatalogue.load()


@pytest.mark.parametrize(
    ("said", "goal"),
    [
        ("ik wil heftruk rijbewjs halen", "heftruk rijbewjs halen"),
        ("Ik wil graag beter worden in Excel", "beter worden in Excel"),
        ("mijn doel is om mijn vca te halen", "mijn vca te halen"),
        ("ik wil een leerloop starten", None),
        ("kun je me helpen een leerplan te maken?", None),
        ("", None),
    ],
)
def test_the_goal_in_a_first_message(said: str, goal: str | None) -> None:
    assert goal_in(said) == goal


async def _consented(dialogue: DialogueManager, who: str) -> None:
    await dialogue.handle(IncomingMessage(Channel.CONSOLE, who, text="/start"))
    await dialogue.handle(
        IncomingMessage(Channel.CONSOLE, who, payload=encode(Answer("consent", "ask", "agree")))
    )


async def _say(dialogue: DialogueManager, who: str, text: str) -> str:
    replies = await dialogue.handle(IncomingMessage(Channel.CONSOLE, who, text=text))
    return "\n".join(r.text for r in replies)


async def test_a_first_message_with_a_goal_starts_the_loop_there(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, interpreter: NluInterpreter
) -> None:
    dialogue = DialogueManager(sessions=sessions, settings=settings, interpreter=interpreter)
    await _consented(dialogue, "forklift")
    said = await _say(dialogue, "forklift", "ik wil de basis van cybersecurity leren")
    assert "Je doel: de basis van cybersecurity leren" in said
    assert RESPONSES.render("loop_ask_goal") not in said
    assert RESPONSES.render("loop_ask_why") in said


async def test_wanting_other_work_shows_the_route_there(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, interpreter: NluInterpreter
) -> None:
    dialogue = DialogueManager(sessions=sessions, settings=settings, interpreter=interpreter)
    await _consented(dialogue, "carer")
    said = await _say(dialogue, "carer", "ik wil verpleegkundige worden")
    assert "Je wilt algemeen verpleegkundige worden" in said
    assert RESPONSES.render("careers_ask_work") not in said


async def test_a_job_said_once_is_not_asked_again(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, interpreter: NluInterpreter
) -> None:
    dialogue = DialogueManager(sessions=sessions, settings=settings, interpreter=interpreter)
    await _consented(dialogue, "desk")
    await _say(dialogue, "desk", "ik werk op de servicedesk")
    said = await _say(dialogue, "desk", "wat voor ander werk past bij mij?")
    assert RESPONSES.render("careers_ask_work") not in said
    assert "medewerker helpdesk" in said
