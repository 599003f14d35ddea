"""Dialogue manager, declarative flows (`flows/*.yml`) and every bot text (`responses*.yml`).

The contract between flows, actions and saved state: flows declare their slots
(`_slots.py`), actions read a read-only view and return changes, buttons carry typed payloads
(`_payloads.py`), and saved conversations are checked against the flows on every message.
"""

from dialogues._flows import Flow, FlowSet
from dialogues._manager import (
    DialogueManager,
    Interpreter,
    Understanding,
    answer_payload,
    command_payload,
    load_state,
)
from dialogues._messages import Attachment, AttachmentKind, Button, IncomingMessage, Reply
from dialogues._payloads import (
    MAX_PAYLOAD_BYTES,
    Answer,
    ChooseIntent,
    Payload,
    PayloadTooLong,
    RunCommand,
    decode,
    encode,
)
from dialogues._responses import ResponseCatalogue
from dialogues._slots import Lifetime, SlotContractWarning, SlotSpec, SlotType, SlotView
from dialogues._state import DialogueState, Frame

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "Answer",
    "Attachment",
    "AttachmentKind",
    "Button",
    "ChooseIntent",
    "DialogueManager",
    "DialogueState",
    "Flow",
    "FlowSet",
    "Frame",
    "IncomingMessage",
    "Interpreter",
    "Lifetime",
    "Payload",
    "PayloadTooLong",
    "Reply",
    "ResponseCatalogue",
    "RunCommand",
    "SlotContractWarning",
    "SlotSpec",
    "SlotType",
    "SlotView",
    "Understanding",
    "answer_payload",
    "command_payload",
    "decode",
    "encode",
    "load_state",
]
