"""What a flow step can call: named async actions that take a context and return data.

An action is close to a pure function (as in rasa-sdk): it reads the declared slots through a
read-only view and returns what should change — slots to set, texts to say, files to send — as
data; the dialogue manager applies it and owns the transaction. Actions are registered
explicitly: `@action("name")` marks a function, and `ActionRegistry.collect(modules)` lists the
marked functions of the modules it is given (`actions.default_actions()`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import ModuleType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.models import User
from core.settings import Settings
from knowledge import Knowledge


class AttachmentKind(StrEnum):
    DOCUMENT = "document"
    PHOTO = "photo"  # a picture to look at (Telegram: sendPhoto)


@dataclass(frozen=True)
class Attachment:
    """A file the bot sends (Telegram: a document, or a photo; console: a file written to
    disk). `caption` goes with it: for a picture, what it shows in words (alt text)."""

    filename: str
    content: bytes
    mime_type: str = "application/json"
    kind: AttachmentKind = AttachmentKind.DOCUMENT
    caption: str = ""


@dataclass(frozen=True)
class Say:
    """A response key from `dialogues/responses.yml` with the values for its placeholders.

    A value may itself be a `Say`: a part of the text chosen by the action (for example
    "gratis" or "€ 295"), rendered before it is put in; a list of `Say`s becomes lines.
    """

    key: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SlotSet:
    """Set a declared slot (None empties it)."""

    name: str
    value: Any


@dataclass(frozen=True)
class SendFile:
    attachment: Attachment


@dataclass(frozen=True)
class UserDeleted:
    """The user's data is gone: end the conversation without saving state."""


Event = SlotSet | Say | SendFile | UserDeleted


@dataclass(frozen=True)
class ActionContext:
    """What an action may read. `slots` is read-only (a view of the declared slots); the
    session's transaction is owned by the dialogue manager; `knowledge` is the app's
    knowledge base (search, occupations, places) to use with that session."""

    session: AsyncSession
    user: User
    slots: Mapping[str, Any]
    settings: Settings
    now: datetime
    knowledge: Knowledge
    display_name: str | None = None
    # Renders a text from dialogues/responses*.yml, for words that go into a file (a chart's
    # labels, a caption); what the bot says is returned as `Say`s instead.
    render: Callable[[Say], str] = field(default=lambda say: say.key)


@dataclass
class ActionResult:
    """What an action asks the dialogue manager to do: set slots, say things, send files."""

    slots: dict[str, Any] = field(default_factory=dict)
    say: list[Say] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    user_deleted: bool = False

    def events(self) -> Iterator[Event]:
        """The result as typed events, in the order the manager applies them."""
        for name, value in self.slots.items():
            yield SlotSet(name, value)
        yield from self.say
        for attachment in self.attachments:
            yield SendFile(attachment)
        if self.user_deleted:
            yield UserDeleted()


Action = Callable[[ActionContext], Awaitable[ActionResult]]

_MARK = "__leerloop_action__"


def action(name: str) -> Callable[[Action], Action]:
    """Mark `func` as the action `name` (the name flows use in `action:`)."""

    def mark(func: Action) -> Action:
        setattr(func, _MARK, name)
        return func

    return mark


class UnknownAction(KeyError):
    pass


class ActionRegistry:
    """The actions flows may call, by name."""

    def __init__(self, actions: Mapping[str, Action]) -> None:
        self._actions = dict(actions)

    @classmethod
    def collect(cls, modules: tuple[ModuleType, ...]) -> ActionRegistry:
        """Every function marked with `@action` in `modules`; a name used twice is an error."""
        found: dict[str, Action] = {}
        for module in modules:
            for value in vars(module).values():
                name = getattr(value, _MARK, None)
                if name is None or getattr(value, "__module__", None) != module.__name__:
                    continue
                if name in found:
                    raise ValueError(f"action {name!r} is defined twice")
                found[name] = value
        return cls(found)

    def get(self, name: str) -> Action:
        try:
            return self._actions[name]
        except KeyError:
            raise UnknownAction(f"unknown action {name!r}") from None

    def names(self) -> frozenset[str]:
        return frozenset(self._actions)
