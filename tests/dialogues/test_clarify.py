"""Low NLU confidence: a clarifying question with the two likeliest intents as buttons."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot._interpreter import NluInterpreter
from core.models import Channel
from core.settings import Settings
from dialogues import DialogueManager, IncomingMessage, RunCommand, decode
from nlu import NluModel

pytestmark = pytest.mark.db


def _unsure(model: NluModel) -> NluInterpreter:
    """The real model with a threshold no answer reaches: every parse is nlu_fallback."""
    config = model.config.model_copy(
        update={"fallback": model.config.fallback.model_copy(update={"threshold": 1.0})}
    )
    return NluInterpreter(
        NluModel(model.nlp, model.extractor, model.concepts, model.classifier, config, model.meta)
    )


async def test_clarifying_question_offers_the_top_two(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, interpreter: NluInterpreter
) -> None:
    dialogue = DialogueManager(
        sessions=sessions, settings=settings, interpreter=_unsure(interpreter.model)
    )
    replies = await dialogue.handle(
        IncomingMessage(Channel.TELEGRAM, "77", text="welke gegevens hebben jullie van mij")
    )
    [reply] = replies
    assert reply.text == dialogue.responses.render("clarify")
    labels = [b.label for b in reply.buttons]
    assert labels[0] == dialogue.responses.render("intent_privacy_export")
    assert len(labels) == 3
    assert decode(reply.buttons[-1].payload) == RunCommand("help")

    chosen = await dialogue.handle(
        IncomingMessage(Channel.TELEGRAM, "77", payload=reply.buttons[0].payload)
    )
    assert dialogue.responses.render("privacy_ask_choice") in chosen[-1].text
