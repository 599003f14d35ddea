"""Chat actions: what flow steps call (wallet, courses, reflection, loops, nudges, teams,
privacy). The rules themselves live in `services/` and `knowledge/`.

`default_actions()` is the registry the dialogue manager uses: every `@action` in the modules
listed there (a new module of actions is added to that list).
"""

from functools import cache

from actions import (
    advisor,
    coaching,
    courses,
    loops,
    menu,
    nudges_chat,
    portal,
    privacy,
    profile,
    regulations,
    wallet_chat,
)
from actions._registry import (
    Action,
    ActionContext,
    ActionRegistry,
    ActionResult,
    Attachment,
    AttachmentKind,
    Event,
    Say,
    SendFile,
    SlotSet,
    UnknownAction,
    UserDeleted,
    action,
)

_MODULES = (
    advisor,
    coaching,
    courses,
    loops,
    menu,
    nudges_chat,
    portal,
    privacy,
    profile,
    regulations,
    wallet_chat,
)


@cache
def default_actions() -> ActionRegistry:
    """The registry of every chat action."""
    return ActionRegistry.collect(_MODULES)


__all__ = [
    "Action",
    "ActionContext",
    "ActionRegistry",
    "ActionResult",
    "Attachment",
    "AttachmentKind",
    "Event",
    "Say",
    "SendFile",
    "SlotSet",
    "UnknownAction",
    "UserDeleted",
    "action",
    "advisor",
    "coaching",
    "courses",
    "default_actions",
    "loops",
    "nudges_chat",
    "privacy",
    "profile",
    "regulations",
    "wallet_chat",
]
