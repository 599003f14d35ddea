"""Chat actions: what flow steps call (wallet, courses, reflection, loops, nudges, teams,
privacy). The rules themselves live in `services/` and `knowledge/`.

Importing this package registers every action.
"""

from actions import (
    advisor,
    coaching,
    courses,
    loops,
    nudges_chat,
    privacy,
    profile,
    regulations,
    wallet_chat,
)
from actions._registry import (
    Action,
    ActionContext,
    ActionResult,
    Attachment,
    Say,
    action,
    action_names,
    get_action,
)

__all__ = [
    "Action",
    "ActionContext",
    "ActionResult",
    "Attachment",
    "Say",
    "action",
    "action_names",
    "advisor",
    "coaching",
    "courses",
    "get_action",
    "loops",
    "nudges_chat",
    "privacy",
    "profile",
    "regulations",
    "wallet_chat",
]
