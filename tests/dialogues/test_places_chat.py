"""Every Dutch place in the chat (issue 19 item 9): a course search near any town or in a
province, and a Leerwerkloket for a town that was not among the 148 known before."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot._interpreter import NluInterpreter
from core.models import Channel
from core.settings import Settings
from dialogues import Answer, DialogueManager, IncomingMessage, ResponseCatalogue, encode

pytestmark = pytest.mark.db
RESPONSES = ResponseCatalogue.load()


async def _chat(dialogue: DialogueManager, who: str, *lines: str) -> str:
    await dialogue.handle(IncomingMessage(Channel.CONSOLE, who, text="/start"))
    await dialogue.handle(
        IncomingMessage(Channel.CONSOLE, who, payload=encode(Answer("consent", "ask", "agree")))
    )
    said = ""
    for line in lines:
        replies = await dialogue.handle(IncomingMessage(Channel.CONSOLE, who, text=line))
        said = "\n".join(r.text for r in replies)
    return said


@pytest.mark.parametrize(
    ("line", "place"),
    [
        ("cursus lassen in de buurt van Zuidhorn", "Zuidhorn"),
        ("ik zoek een cursus vca in Sliedrecht", "Sliedrecht"),
    ],
)
async def test_a_course_near_any_town(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    interpreter: NluInterpreter,
    line: str,
    place: str,
) -> None:
    dialogue = DialogueManager(sessions=sessions, settings=settings, interpreter=interpreter)
    said = await _chat(dialogue, "town", line)
    assert RESPONSES.render("course_place_unknown", {"place": place}) not in said
    assert place in said or "Ik vond" in said, said


async def test_a_loket_for_a_village(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, interpreter: NluInterpreter
) -> None:
    dialogue = DialogueManager(sessions=sessions, settings=settings, interpreter=interpreter)
    said = await _chat(dialogue, "village", "/advies", "Zuidhorn")
    assert "Leerwerkloket Groningen" in said, said
