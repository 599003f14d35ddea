"""Regulation questions as people type them, asked through the console chat (issue 12).

The questions and the facts each reply must hold (and must not hold) are data:
`regulation_questions.yml`. Every question starts a new chat, so one answer never leans on another.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot._interpreter import NluInterpreter
from bot.console import ConsoleChannel
from core.settings import Settings
from dialogues import DialogueManager

pytestmark = pytest.mark.db


class RegulationQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    q: str
    expect: list[str]
    forbid: list[str] = []
    before: list[str] = []
    then: list[str] = []  # lines typed after the question (an answer the bot asks for)
    plain: bool = False  # the reply is no regulation card (no source line expected)


class QuestionSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    always_forbid: list[str]
    always_expect: list[str]
    questions: list[RegulationQuestion]


SET = QuestionSet.model_validate(
    yaml.safe_load((Path(__file__).parent / "regulation_questions.yml").read_text("utf-8"))
)


def test_the_set_is_large_enough() -> None:
    assert len(SET.questions) >= 40
    assert len({q.q for q in SET.questions if not q.before}) == len(
        [q for q in SET.questions if not q.before]
    )


@pytest.mark.parametrize("item", SET.questions, ids=[q.q for q in SET.questions])
async def test_the_reply_holds_the_key_fact(
    item: RegulationQuestion,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    interpreter: NluInterpreter,
    tmp_path: Path,
) -> None:
    dialogue = DialogueManager(sessions=sessions, settings=settings, interpreter=interpreter)
    out = io.StringIO()
    console = ConsoleChannel(dialogue, user="vraag", out=out, export_dir=tmp_path)
    for line in item.before:
        await console.send(line)
    out.seek(0)
    out.truncate()
    await console.send(item.q)
    for line in item.then:
        await console.send(line)
    reply = out.getvalue()
    folded = reply.casefold()
    expected = [*item.expect, *([] if item.plain else SET.always_expect)]
    missing = [e for e in expected if e.casefold() not in folded]
    wrong = [f for f in [*item.forbid, *SET.always_forbid] if f.casefold() in folded]
    assert not missing and not wrong, f"missing {missing}, outdated {wrong} in:\n{reply}"
