"""Declared slots: what a flow remembers, of which type, and for how long.

Every slot a flow reads or writes is declared in its YAML file::

    slots:
      loop_goal_text: {type: text}                       # typed by the user (personal)
      loop_when: {type: str}                             # a button value
      loop_exists: {type: bool, set_by: [loop_check_existing]}

`lifetime` says when a value is forgotten: `turn` (after this message), `flow` (when no flow that
declares the slot is on the stack any more; the default) or `user` (kept between flows).
`personal` values (all `text` slots, and any slot marked so) are never kept beyond the turn for a
user without consent. `set_by` names the actions that may set the slot, so a newcomer reading a
branch in YAML knows which Python function decides it.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator, Mapping
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


class SlotType(StrEnum):
    TEXT = "text"  # what the user typed; personal by definition
    STR = "str"  # a value chosen by the bot or a button: an id, a code, an option value
    BOOL = "bool"
    INT = "int"
    LIST = "list"
    DICT = "dict"
    ANY = "any"  # entity values (numbers, dates, names) and other JSON values


class Lifetime(StrEnum):
    TURN = "turn"
    FLOW = "flow"
    USER = "user"


_PYTHON_TYPES: dict[SlotType, tuple[type, ...]] = {
    SlotType.TEXT: (str,),
    SlotType.STR: (str,),
    SlotType.BOOL: (bool,),
    SlotType.INT: (int,),
    SlotType.LIST: (list, tuple),
    SlotType.DICT: (dict,),
}


class SlotSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: SlotType
    lifetime: Lifetime = Lifetime.FLOW
    default: Any = None
    personal: bool = False
    set_by: tuple[str, ...] = ()
    description: str = ""

    @model_validator(mode="after")
    def _text_is_personal(self) -> SlotSpec:
        if self.type is SlotType.TEXT and not self.personal:
            object.__setattr__(self, "personal", True)
        if self.default is not None and not self.accepts(self.default):
            raise ValueError(f"default {self.default!r} is not of type {self.type}")
        return self

    def accepts(self, value: Any) -> bool:
        """None always fits (the slot is empty); otherwise the value must have the slot's type."""
        if value is None or self.type is SlotType.ANY:
            return True
        if self.type is SlotType.INT and isinstance(value, bool):
            return False
        return isinstance(value, _PYTHON_TYPES[self.type])

    def same_as(self, other: SlotSpec) -> bool:
        """Two flows may declare one slot, but they must mean the same by it."""
        return (self.type, self.lifetime, self.default, self.personal) == (
            other.type,
            other.lifetime,
            other.default,
            other.personal,
        )


logger = logging.getLogger(__name__)


class SlotContractWarning(UserWarning):
    """Code broke the slot contract: an undeclared slot, a value of the wrong type, or an
    action setting a slot whose `set_by` does not name it. Tests turn this into an error
    (`filterwarnings = error`); a running bot logs it and carries on, so a user never pays
    for a missing declaration."""


def contract_broken(message: str) -> None:
    logger.warning("slot contract: %s", message)
    warnings.warn(message, SlotContractWarning, stacklevel=3)


class SlotView(Mapping[str, Any]):
    """What an action (or a condition) may read: the declared slots, read-only.

    Reading a slot nobody declared is an error, not a silent None: a typo fails the tests.
    """

    def __init__(self, values: Mapping[str, Any], specs: Mapping[str, SlotSpec]) -> None:
        self._values = values
        self._specs = specs

    def __getitem__(self, name: str) -> Any:
        spec = self._specs.get(name)
        if spec is None:
            contract_broken(f"slot {name!r} is read but not declared in any flow")
            return self._values.get(name)
        return self._values.get(name, spec.default)

    def get(self, name: str, default: Any = None) -> Any:
        value = self[name]
        return default if value is None else value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._values.get(name) is not None

    def __iter__(self) -> Iterator[str]:
        return (name for name, value in self._values.items() if value is not None)

    def __len__(self) -> int:
        return sum(1 for value in self._values.values() if value is not None)
