"""Persona journeys over the fake Telegram Bot API (`journeys.yml`): each one passes end to end
through python-telegram-bot, the dialogue manager and the database."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from bot.telegram_channel import TelegramChannel
from core.db import Base
from dialogues import ResponseCatalogue
from tests.support import FakeTelegram
from tests.support.turns import answer_to_one_turn

pytestmark = pytest.mark.e2e

JOURNEYS = Path(__file__).with_name("journeys.yml")
RESPONSES = ResponseCatalogue.load()


class JourneyStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: str | None = None
    press: str | None = None
    says: list[str] = []
    not_says: list[str] = []
    contains: list[str] = []
    not_contains: list[str] = []
    buttons_max: int | None = None


class Journey(BaseModel):
    model_config = ConfigDict(extra="forbid")
    persona: str
    steps: list[JourneyStep]
    stored_nowhere: list[str] = []


def _journeys() -> list[Journey]:
    return [Journey.model_validate(j) for j in yaml.safe_load(JOURNEYS.read_text("utf-8"))]


def _fixed(key: str) -> str:
    """The longest literal part of a response (its placeholders vary)."""
    template = RESPONSES.variants(key)[0]
    parts = [p for p, *_ in string.Formatter().parse(template) if p.strip()]
    return max(parts, key=len).strip() if parts else ""


def test_there_are_at_least_fifteen_journeys() -> None:
    assert len(_journeys()) >= 15


@pytest.mark.parametrize("journey", _journeys(), ids=lambda j: j.persona)
async def test_journey(
    journey: Journey, telegram_bot: TelegramChannel, fake_telegram: FakeTelegram
) -> None:
    chat = 500_000 + abs(hash(journey.persona)) % 100_000
    before_journey = await _every_row(telegram_bot) if journey.stored_nowhere else {}
    for number, step in enumerate(journey.steps, start=1):
        sent = fake_telegram.messages_to(chat)
        before = len(sent)
        if step.press is not None:
            with_buttons = [m for m in sent if m.buttons]
            assert with_buttons, f"step {number}: no buttons to press"
            label = next(t for t, _ in with_buttons[-1].buttons if step.press in t)
            fake_telegram.push_button(with_buttons[-1], label)
        else:
            assert step.user is not None
            fake_telegram.push_text(chat, step.user)
        answer = await answer_to_one_turn(fake_telegram, telegram_bot, chat, before)
        texts = [m.text or "" for m in answer]
        said = "\n".join(texts)
        where = f"{journey.persona}, step {number} ({step.user or step.press}):\n{said}"
        for key in step.says:
            assert _fixed(key) in said, f"{where}\n-- expected {key}"
        for key in step.not_says:
            assert _fixed(key) not in said, f"{where}\n-- did not expect {key}"
        for literal in step.contains:
            assert literal.casefold() in said.casefold(), f"{where}\n-- expected {literal!r}"
        for literal in step.not_contains:
            assert literal.casefold() not in said.casefold(), f"{where}\n-- not {literal!r}"
        if step.buttons_max is not None:
            buttons = sum(len(m.buttons) for m in fake_telegram.messages_to(chat)[before:])
            assert buttons <= step.buttons_max, f"{where}\n-- {buttons} buttons"
    if journey.stored_nowhere:
        # Every table, not only the personal ones: what the journey wrote is every row that was
        # not there before (the seeded knowledge does name towns like the ones people type).
        for name, rows in (await _every_row(telegram_bot)).items():
            written = repr(sorted(rows - before_journey.get(name, set()))).casefold()
            for typed in journey.stored_nowhere:
                assert typed.casefold() not in written, f"{typed!r} is stored in {name}"


async def _every_row(bot: TelegramChannel) -> dict[str, set[str]]:
    """Each table's rows, as text."""
    async with bot.services.engine.connect() as conn:
        return {
            table.name: {repr(tuple(row)) for row in (await conn.execute(select(table))).all()}
            for table in Base.metadata.sorted_tables
        }
