"""Per-user dialogue state: the flow stack and the slots, stored as JSON in the database."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

STATE_VERSION = 1


@dataclass
class Frame:
    """A flow in progress: where it is and whether it waits for an answer."""

    flow: str
    step: str
    waiting: bool = False


@dataclass
class DialogueState:
    stack: list[Frame] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)
    turns: int = 0

    @property
    def top(self) -> Frame | None:
        return self.stack[-1] if self.stack else None

    def to_json(self) -> dict[str, Any]:
        return {"version": STATE_VERSION, **asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> DialogueState:
        if not data or data.get("version") != STATE_VERSION:
            return cls()
        return cls(
            stack=[Frame(**frame) for frame in data.get("stack", [])],
            slots=dict(data.get("slots", {})),
            turns=int(data.get("turns", 0)),
        )
