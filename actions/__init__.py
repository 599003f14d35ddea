"""Actions that flows call (wallet, courses, reflection, loops, nudges, teams, privacy).

Importing this package registers every action.
"""

from actions import (
    advisor,
    coaching,
    courses,
    loops,
    nudges,
    nudges_chat,
    organisations,
    privacy,
    regulations,
    teams,
    users,
    wallet,
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
from actions.organisations import authenticate, create_organisation
from actions.privacy import delete_user_data, export_user_data, personal_tables
from actions.users import find_user, get_or_create_user, mark_blocked

__all__ = [
    "Action",
    "ActionContext",
    "ActionResult",
    "Attachment",
    "Say",
    "action",
    "action_names",
    "advisor",
    "authenticate",
    "coaching",
    "courses",
    "create_organisation",
    "delete_user_data",
    "export_user_data",
    "find_user",
    "get_action",
    "get_or_create_user",
    "loops",
    "mark_blocked",
    "nudges",
    "nudges_chat",
    "organisations",
    "personal_tables",
    "privacy",
    "regulations",
    "teams",
    "users",
    "wallet",
    "wallet_chat",
]
