"""Domain services: the rules of Leerloop, apart from any chat.

The HTTP API, the web portal, the delivery engine and the chat actions all use these: the
ledger and the wallet (money), teams and credits, nudges and the outbox, users, organisations
and their tokens, and privacy (export and delete). Functions take the session explicitly; the
caller owns the transaction.
"""

from services import ledger, nudges, organisations, outbox, privacy, teams, users, wallet
from services.organisations import authenticate, create_organisation, hash_token
from services.privacy import (
    count_user_rows,
    delete_user_data,
    export_user_data,
    personal_tables,
)
from services.users import find_user, get_or_create_user, mark_blocked, withdraw_consent

__all__ = [
    "authenticate",
    "count_user_rows",
    "create_organisation",
    "delete_user_data",
    "export_user_data",
    "find_user",
    "get_or_create_user",
    "hash_token",
    "ledger",
    "mark_blocked",
    "nudges",
    "organisations",
    "outbox",
    "personal_tables",
    "privacy",
    "teams",
    "users",
    "wallet",
    "withdraw_consent",
]
