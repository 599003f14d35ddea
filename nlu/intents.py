"""The intent and entity contract from the design (names are fixed)."""

from __future__ import annotations

from enum import StrEnum


class Intent(StrEnum):
    GREET = "greet"
    GOODBYE = "goodbye"
    THANK = "thank"
    AFFIRM = "affirm"
    DENY = "deny"
    HELP = "help"
    BOT_CHALLENGE = "bot_challenge"
    OUT_OF_SCOPE = "out_of_scope"
    REFLECT_SKILLS = "reflect_skills"
    INFORM = "inform"
    EXPLORE_CAREERS = "explore_careers"
    START_LEARNING_LOOP = "start_learning_loop"
    LOOP_STATUS = "loop_status"
    REPORT_PROGRESS = "report_progress"
    FIND_COURSE = "find_course"
    ENROLL_COURSE = "enroll_course"
    CHECK_WALLET = "check_wallet"
    WALLET_HISTORY = "wallet_history"
    ASK_REGULATION = "ask_regulation"
    SET_REMINDER = "set_reminder"
    STOP_NUDGES = "stop_nudges"
    NUDGE_TEAM = "nudge_team"
    TEAM_OVERVIEW = "team_overview"
    REQUEST_ADVISOR = "request_advisor"
    PRIVACY_EXPORT = "privacy_export"
    PRIVACY_DELETE = "privacy_delete"
    NLU_FALLBACK = "nlu_fallback"


ENTITY_TYPES: frozenset[str] = frozenset(
    {
        "skill",
        "occupation",
        "topic",
        "location",
        "education_level",
        "course_format",
        "regulation",
        "amount",
        "date",
        "time",
        "frequency",
        "duration",
    }
)
