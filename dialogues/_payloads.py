"""One codec for what a button sends back: typed, versioned, and within Telegram's 64 bytes.

A button stands for one of three things:

- `Answer(flow, step, value)`: the answer to the question a flow asked (`1a:flow.step:value`);
- `ChooseIntent(intent)`: "I meant this" under a clarifying question (`1i:intent`);
- `RunCommand(command, args)`: a command, as if typed (`1c:command args`) — menu buttons, and
  the buttons under a nudge (`1c:nudge done 12`).

Buttons stay on a user's screen for months, so older encodings still decode: version 0 is what
Leerloop sent before this codec (`@flow.step:value`, `#intent`, `/command args`). A payload that
does not decode is a stale button, never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_PAYLOAD_BYTES = 64  # Telegram's limit for callback_data
VERSION = "1"

_NAME = r"[a-z_]{1,24}"
_ANSWER = re.compile(
    rf"^(?P<flow>{_NAME})\.(?P<step>[a-z0-9_]{{1,24}}):(?P<value>[a-z0-9_-]{{1,48}})$"
)
_INTENT = re.compile(r"^(?P<intent>[a-z_]{1,40})$")
_COMMAND = re.compile(r"^(?P<command>[a-z_]{1,32})(?: (?P<args>.*))?$", re.DOTALL)


@dataclass(frozen=True)
class Answer:
    flow: str
    step: str
    value: str


@dataclass(frozen=True)
class ChooseIntent:
    intent: str


@dataclass(frozen=True)
class RunCommand:
    command: str
    args: str = ""


Payload = Answer | ChooseIntent | RunCommand


class PayloadTooLong(ValueError):
    """A button would carry more than Telegram allows; shorten the value."""


def encode(payload: Payload) -> str:
    match payload:
        case Answer(flow, step, value):
            body = f"a:{flow}.{step}:{value}"
            if not _ANSWER.match(body[2:]):
                raise ValueError(f"not a valid answer payload: {payload!r}")
        case ChooseIntent(intent):
            body = f"i:{intent}"
        case RunCommand(command, args):
            body = f"c:{command} {args}" if args else f"c:{command}"
    encoded = VERSION + body
    if len(encoded.encode("utf-8")) > MAX_PAYLOAD_BYTES:
        raise PayloadTooLong(f"button payload of {len(encoded.encode())} bytes: {encoded!r}")
    return encoded


def decode(raw: str) -> Payload | None:
    """The payload a button sent, or None when it is not one Leerloop made (a stale button)."""
    if raw.startswith(VERSION) and len(raw) > 2 and raw[2] == ":":
        kind, body = raw[1], raw[3:]
        if kind == "a" and (m := _ANSWER.match(body)):
            return Answer(m["flow"], m["step"], m["value"])
        if kind == "i" and (m := _INTENT.match(body)):
            return ChooseIntent(m["intent"])
        if kind == "c" and (m := _COMMAND.match(body)):
            return RunCommand(m["command"], (m["args"] or "").strip())
        return None
    return _decode_v0(raw)


def _decode_v0(raw: str) -> Payload | None:
    if raw.startswith("@") and (m := _ANSWER.match(raw[1:])):
        return Answer(m["flow"], m["step"], m["value"])
    if raw.startswith("#") and (m := _INTENT.match(raw[1:])):
        return ChooseIntent(m["intent"])
    if raw.startswith("/") and (m := _COMMAND.match(raw[1:])):
        return RunCommand(m["command"], (m["args"] or "").strip())
    return None
