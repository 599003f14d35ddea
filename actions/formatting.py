"""How numbers and dates look in the bot's Dutch texts (values for placeholders, not sentences)."""

from __future__ import annotations

from datetime import date

_MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)


def euro(cents: int) -> str:
    """€ 1.250 for whole euros, € 12,50 otherwise (Dutch separators)."""
    whole, rest = divmod(abs(cents), 100)
    sign = "-" if cents < 0 else ""
    grouped = f"{whole:,}".replace(",", ".")
    return f"{sign}€ {grouped}" if rest == 0 else f"{sign}€ {grouped},{rest:02d}"


def day(value: date) -> str:
    """1 januari 2024."""
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def day_month(value: date, today: date) -> str:
    """6 maart (this year), 6 maart 2027 (another year)."""
    if value.year == today.year:
        return f"{value.day} {_MONTHS[value.month - 1]}"
    return day(value)
