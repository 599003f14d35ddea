"""Runs every YAML conversation case in `tests/dialogues/conversations/` on every database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot._interpreter import NluInterpreter
from core.settings import Settings
from dialogues import DialogueManager
from tests.support.conversations import Case, ConversationRunner, load_cases

CASES = load_cases(Path(__file__).parent / "conversations")


@pytest.mark.db
@pytest.mark.parametrize("case", [c for _, c in CASES], ids=[n for n, _ in CASES])
async def test_conversation(
    case: Case,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    dialogue: DialogueManager,
    interpreter: NluInterpreter,
) -> None:
    if case.nlu:
        dialogue = DialogueManager(sessions=sessions, settings=settings, interpreter=interpreter)
    await ConversationRunner(sessions, settings, dialogue).run(case)


def test_there_are_cases() -> None:
    assert len(CASES) >= 10
