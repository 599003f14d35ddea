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
    """The stack of flows, the declared slots' values, and the manager's own bookkeeping
    (`engine`: which flow the consent question was asked for), apart from the slots."""

    stack: list[Frame] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)
    turns: int = 0
    engine: dict[str, Any] = field(default_factory=dict)
    # Not saved: frames were dropped while loading because the flows changed since.
    repaired: bool = field(default=False, compare=False)

    @property
    def top(self) -> Frame | None:
        return self.stack[-1] if self.stack else None

    def to_json(self) -> dict[str, Any]:
        data = {"version": STATE_VERSION, **asdict(self)}
        del data["repaired"]
        if not self.engine:
            del data["engine"]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> DialogueState:
        if not data or data.get("version") != STATE_VERSION:
            return cls()
        frames = []
        repaired = False
        for frame in data.get("stack", []):
            try:
                frames.append(Frame(**frame))
            except TypeError:
                repaired = True  # a frame saved by another version of Leerloop
        slots = dict(data.get("slots", {}))
        engine = dict(data.get("engine", {}))
        if "_consent_asked_for" in slots:  # kept among the slots before slots were declared
            engine["consent_asked_for"] = slots.pop("_consent_asked_for")
        return cls(
            stack=frames,
            slots=slots,
            turns=int(data.get("turns", 0)),
            engine=engine,
            repaired=repaired,
        )
