"""Dialogue manager, declarative flows (`flows/*.yml`) and every bot text (`responses*.yml`)."""

from dialogues._flows import Flow, FlowSet
from dialogues._manager import (
    DialogueManager,
    Interpreter,
    Understanding,
    answer_payload,
    load_state,
)
from dialogues._messages import Button, IncomingMessage, Reply
from dialogues._responses import ResponseCatalogue
from dialogues._state import DialogueState, Frame

__all__ = [
    "Button",
    "DialogueManager",
    "DialogueState",
    "Flow",
    "FlowSet",
    "Frame",
    "IncomingMessage",
    "Interpreter",
    "Reply",
    "ResponseCatalogue",
    "Understanding",
    "answer_payload",
    "load_state",
]
