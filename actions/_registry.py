"""What a flow step can call: named async actions that take a context and return data."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.models import User
from core.settings import Settings


@dataclass(frozen=True)
class Attachment:
    """A file the bot sends (Telegram: a document; console: a file written to disk)."""

    filename: str
    content: bytes
    mime_type: str = "application/json"


@dataclass(frozen=True)
class Say:
    """A response key from `dialogues/responses.yml` with the values for its placeholders.

    A value may itself be a `Say`: a part of the text chosen by the action (for example
    "gratis" or "€ 295"), rendered before it is put in; a list of `Say`s becomes lines.
    """

    key: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class ActionContext:
    """What an action may read. The session's transaction is owned by the dialogue manager."""

    session: AsyncSession
    user: User
    slots: dict[str, Any]
    settings: Settings
    now: datetime
    display_name: str | None = None


@dataclass
class ActionResult:
    """What an action asks the dialogue manager to do: set slots, say things, send files."""

    slots: dict[str, Any] = field(default_factory=dict)
    say: list[Say] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    user_deleted: bool = False


Action = Callable[[ActionContext], Awaitable[ActionResult]]

_ACTIONS: dict[str, Action] = {}


def action(name: str) -> Callable[[Action], Action]:
    """Register an action under `name`, the name flows use in `action:`."""

    def register(func: Action) -> Action:
        if name in _ACTIONS:
            raise ValueError(f"action {name!r} is registered twice")
        _ACTIONS[name] = func
        return func

    return register


def get_action(name: str) -> Action:
    try:
        return _ACTIONS[name]
    except KeyError:
        raise KeyError(f"unknown action {name!r}") from None


def action_names() -> frozenset[str]:
    return frozenset(_ACTIONS)
