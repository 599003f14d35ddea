"""Rule-based Dutch normalisers: money, dates, times, frequencies, durations, education levels.

Each finder scans a text and yields `Found(entity, start, end, value, info)`; `value` is the
normalised value (cents, an ISO date, "HH:MM", an ISO 8601 duration, ...), `info` holds details.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class Found:
    entity: str
    start: int
    end: int
    value: Any
    info: dict[str, Any] = field(default_factory=dict)


def fold(text: str) -> str:
    """Lower case without accents, same length as the input (offsets stay valid)."""
    out = []
    for ch in text:
        base = unicodedata.normalize("NFKD", ch)
        letters = [c for c in base if not unicodedata.combining(c)]
        out.append((letters[0] if letters else ch).lower() if len(ch.lower()) == 1 else ch)
    return "".join(out)


# ----------------------------------------------------------------------------- numbers

_UNITS = {
    "een": 1,
    "eén": 1,
    "één": 1,
    "twee": 2,
    "drie": 3,
    "vier": 4,
    "vijf": 5,
    "zes": 6,
    "zeven": 7,
    "acht": 8,
    "negen": 9,
    "tien": 10,
    "elf": 11,
    "twaalf": 12,
    "dertien": 13,
    "veertien": 14,
    "vijftien": 15,
    "zestien": 16,
    "zeventien": 17,
    "achttien": 18,
    "negentien": 19,
}
_TENS = {
    "twintig": 20,
    "dertig": 30,
    "veertig": 40,
    "vijftig": 50,
    "zestig": 60,
    "zeventig": 70,
    "tachtig": 80,
    "negentig": 90,
}
_NUMBER_WORD = (
    r"(?:(?:een|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|dertien|veertien|"
    r"vijftien|zestien|zeventien|achttien|negentien|twintig|dertig|veertig|vijftig|zestig|"
    r"zeventig|tachtig|negentig|honderd|duizend|en|ën)+)"
)


def words_to_number(word: str) -> int | None:
    """Dutch number words written as one word: 'vijfhonderd', 'tweeduizend', 'eenentwintig'."""
    word = fold(word).replace("ën", "en")
    if not word:
        return None

    def below_thousand(s: str) -> int | None:
        if not s:
            return 0
        if "honderd" in s:
            head, _, tail = s.partition("honderd")
            hundreds = 1 if head == "" else _UNITS.get(head)
            rest = below_thousand(tail)
            return None if hundreds is None or rest is None else hundreds * 100 + rest
        if s in _UNITS:
            return _UNITS[s]
        if s in _TENS:
            return _TENS[s]
        for tens_word, tens in _TENS.items():
            if s.endswith(tens_word) and s[: -len(tens_word)].endswith("en"):
                unit = _UNITS.get(s[: -len(tens_word) - 2])
                return None if unit is None or unit > 9 else tens + unit
        return None

    if "duizend" in word:
        head, _, tail = word.partition("duizend")
        thousands = 1 if head == "" else below_thousand(head)
        rest = below_thousand(tail)
        return None if thousands is None or rest is None else thousands * 1000 + rest
    return below_thousand(word)


def _number(token: str) -> float | None:
    token = token.strip()
    if token in ("anderhalf", "anderhalve"):
        return 1.5
    if token in ("half", "halve", "een half"):
        return 0.5
    if re.fullmatch(r"\d+([.,]\d+)?", token):
        return float(token.replace(",", "."))
    n = words_to_number(token)
    return float(n) if n is not None else None


# ------------------------------------------------------------------------------ money

_AMOUNT_NUM = r"\d{1,3}(?:\.\d{3})+(?:,\d{1,2}|,-)?|\d+(?:,\d{1,2}|,-)?|\d+(?:\.\d{1,2})?"
_AMOUNT_RE = re.compile(
    rf"(?:(?:€|eur|euro)\s*(?P<a>{_AMOUNT_NUM})(?:\s*(?P<ak>k)\b)?"
    rf"|(?P<b>{_AMOUNT_NUM})\s*(?P<bk>k)?\s*(?:€|euro|eur)\b"
    rf"|\b(?P<w>{_NUMBER_WORD}|anderhalve|halve)\s+(?:euro|eur)\b)",
    re.IGNORECASE,
)


def _parse_amount_number(raw: str) -> float | None:
    raw = raw.strip().removesuffix(",-")
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?", raw):
        return float(raw.replace(".", "").replace(",", "."))
    if re.fullmatch(r"\d+,\d{1,2}", raw):
        return float(raw.replace(",", "."))
    if re.fullmatch(r"\d+(?:\.\d{1,2})?", raw):
        return float(raw)
    return None


def find_amounts(text: str, now: datetime) -> Iterator[Found]:
    for m in _AMOUNT_RE.finditer(text):
        if m["w"]:
            number = _number(fold(m["w"]))
            if m["w"].lower() in ("anderhalve",):
                number = 1.5
            kilo = False
        else:
            number = _parse_amount_number(m["a"] or m["b"])
            kilo = bool(m["ak"] or m["bk"])
        if number is None:
            continue
        euros = number * (1000 if kilo else 1)
        cents = round(euros * 100)
        yield Found("amount", m.start(), m.end(), cents, {"currency": "EUR", "euros": euros})


# ------------------------------------------------------------------------------ dates

MONTHS = {
    "januari": 1,
    "jan": 1,
    "februari": 2,
    "feb": 2,
    "maart": 3,
    "mrt": 3,
    "april": 4,
    "apr": 4,
    "mei": 5,
    "juni": 6,
    "jun": 6,
    "juli": 7,
    "jul": 7,
    "augustus": 8,
    "aug": 8,
    "september": 9,
    "sep": 9,
    "sept": 9,
    "oktober": 10,
    "okt": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
WEEKDAYS = {
    "maandag": 0,
    "dinsdag": 1,
    "woensdag": 2,
    "donderdag": 3,
    "vrijdag": 4,
    "zaterdag": 5,
    "zondag": 6,
}
_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY_RE = "|".join(WEEKDAYS)
_UNIT_DAYS = {"dag": 1, "dagen": 1, "week": 7, "weken": 7}
_UNIT_MONTHS = {"maand": 1, "maanden": 1, "jaar": 12, "jaren": 12}
_COUNT = rf"(?:\d+|{_NUMBER_WORD}|een paar|paar|anderhalve|anderhalf|een half|half)"


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def _next_weekday(today: date, weekday: int, *, next_week: bool = False) -> date:
    if next_week:
        monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
        return monday + timedelta(days=weekday)
    return today + timedelta(days=(weekday - today.weekday()) % 7)


def _count(raw: str) -> float | None:
    raw = fold(raw).strip()
    if raw in ("een paar", "paar"):
        return 3
    return _number(raw.replace("een half", "half"))


_DATE_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b"), "iso"),
    (re.compile(r"\b(?P<d>\d{1,2})[-/](?P<m>\d{1,2})(?:[-/](?P<y>\d{2,4}))?\b"), "numeric"),
    (
        re.compile(
            rf"\b(?:op\s+)?(?P<d>\d{{1,2}})(?:e|ste|de)?\s+(?P<mon>{_MONTH_RE})\b\.?"
            rf"(?:\s+(?P<y>\d{{4}}))?"
        ),
        "day_month",
    ),
    (
        re.compile(
            rf"\b(?:(?:volgende|komende|aanstaande)\s+week\s+(?P<wd1>{_WEEKDAY_RE})"
            rf"|(?P<wd2>{_WEEKDAY_RE})\s+(?:volgende|komende)\s+week)\b"
        ),
        "weekday_next_week",
    ),
    (
        re.compile(
            rf"\b(?:(?:op|aanstaande|komende|a\.s\.)\s+)?(?P<wd>{_WEEKDAY_RE})"
            rf"(?:\s+(?:aanstaande|a\.s\.))?\b"
        ),
        "weekday",
    ),
    (
        re.compile(rf"\bover\s+(?P<n>{_COUNT})\s+(?P<u>dagen|dag|weken|week|maanden|maand|jaar)\b"),
        "relative",
    ),
    (
        re.compile(
            r"\b(?P<w>vandaag|vanochtend|vanmorgen|vanmiddag|vanavond|vannacht|"
            r"morgenochtend|morgenmiddag|morgenavond|morgen|overmorgen|gisteren)\b"
        ),
        "named_day",
    ),
    (
        re.compile(r"\b(?P<w>volgende|komende|deze|vorige|vorig)\s+(?P<u>week|maand|jaar)\b"),
        "named_period",
    ),
    (re.compile(r"\b(?:eind|einde)\s+(?:van\s+)?(?:de|deze)\s+(?P<u>maand|week)\b"), "end_of"),
    (
        re.compile(
            rf"\b(?:(?:in|tot|na|begin|eind|vanaf|voor)\s+)?(?P<mon>{_MONTH_RE})\b"
            rf"(?:\s+(?P<y>\d{{4}}))?"
        ),
        "month",
    ),
    (re.compile(r"\b(?:in|sinds|vanaf|tot|voor|na)?\s*(?P<y>20\d{2}|19\d{2})\b"), "year"),
]


_LEADING_PREPOSITION = re.compile(r"\s*(?:(?:op|in|sinds|tot|vanaf|voor|na)\s+)?")


def _date_value(kind: str, m: re.Match[str], today: date) -> tuple[date, str] | None:
    g = m.groupdict()
    if kind in ("iso", "numeric", "day_month"):
        day = int(g["d"])
        month = int(g["m"]) if kind != "day_month" else MONTHS[g["mon"]]
        year = int(g["y"]) if g.get("y") else None
        if year is not None and year < 100:
            year += 2000
        try:
            value = date(year or today.year, month, day)
        except ValueError:
            return None
        if year is None and value < today:
            value = value.replace(year=today.year + 1)
        return value, "day"
    if kind == "weekday_next_week":
        return _next_weekday(today, WEEKDAYS[g["wd1"] or g["wd2"]], next_week=True), "day"
    if kind == "weekday":  # "vrijdag" said on a Friday means next Friday ("vandaag" is today)
        return _next_weekday(today + timedelta(days=1), WEEKDAYS[g["wd"]]), "day"
    if kind == "relative":
        n = _count(g["n"])
        if n is None:
            return None
        unit = g["u"]
        if unit in _UNIT_DAYS:
            return today + timedelta(days=round(n * _UNIT_DAYS[unit])), "day"
        return _add_months(today, round(n * _UNIT_MONTHS[unit])), "day"
    if kind == "named_day":
        word = g["w"]
        # "vanavond" is today, "morgenochtend" tomorrow
        offset = {"overmorgen": 2, "gisteren": -1}.get(word, 1 if word.startswith("morgen") else 0)
        return today + timedelta(days=offset), "day"
    if kind == "named_period":
        step = {"volgende": 1, "komende": 1, "deze": 0, "vorige": -1, "vorig": -1}[g["w"]]
        if g["u"] == "week":
            monday = today - timedelta(days=today.weekday())
            return monday + timedelta(days=7 * step), "week"
        if g["u"] == "maand":
            return _add_months(today.replace(day=1), step), "month"
        return date(today.year + step, 1, 1), "year"
    if kind == "end_of":
        if g["u"] == "week":
            return today + timedelta(days=6 - today.weekday()), "day"
        return _add_months(today.replace(day=1), 1) - timedelta(days=1), "day"
    if kind == "month":
        month = MONTHS[g["mon"]]
        if g.get("y"):
            return date(int(g["y"]), month, 1), "month"
        year = today.year if month >= today.month else today.year + 1
        return date(year, month, 1), "month"
    if kind == "year":
        return date(int(g["y"]), 1, 1), "year"
    return None


def find_dates(text: str, now: datetime) -> Iterator[Found]:
    folded = fold(text)
    today = now.date()
    for pattern, kind in _DATE_PATTERNS:
        for m in pattern.finditer(folded):
            if kind == "month" and _bare_abbreviation(m):
                continue
            parsed = _date_value(kind, m, today)
            if parsed is None:
                continue
            value, grain = parsed
            start, end = m.start(), m.end()
            # A leading preposition is not part of the date: "op [15 maart]", "tot [maandag]".
            lead = _LEADING_PREPOSITION.match(folded, start, end)
            if lead:
                start = lead.end()
            yield Found("date", start, end, value.isoformat(), {"grain": grain})


def _bare_abbreviation(m: re.Match[str]) -> bool:
    """A month abbreviation alone ('dec', 'jan') is too often something else: need a year."""
    month = m.groupdict().get("mon") or ""
    return month in (
        "jun",
        "jul",
        "aug",
        "sep",
        "dec",
        "nov",
        "okt",
        "feb",
        "apr",
        "mrt",
        "jan",
    ) and not m.groupdict().get("y")


# ------------------------------------------------------------------------------ times

_HOUR_WORDS = {**{k: v for k, v in _UNITS.items() if v <= 12}}
_HOUR = r"(?:\d{1,2}|een|één|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf)"
_PART_OF_DAY = {
    "'s ochtends": "morning",
    "s ochtends": "morning",
    "in de ochtend": "morning",
    "'s morgens": "morning",
    "s morgens": "morning",
    "'s middags": "afternoon",
    "s middags": "afternoon",
    "in de middag": "afternoon",
    "'s avonds": "evening",
    "s avonds": "evening",
    "in de avond": "evening",
    "'s nachts": "night",
    "s nachts": "night",
}
_POD_RE = "|".join(re.escape(p) for p in sorted(_PART_OF_DAY, key=len, reverse=True))
_POD_BEFORE = rf"(?:(?P<pod0>{_POD_RE})\s+)?"
_POD_AFTER = rf"(?:\s+(?P<pod>{_POD_RE}))?"
_NOT_A_DURATION = r"(?!\s*(?:per|in de|lang|achter|extra|euro|eur|€|%|dagen|weken|jaar|maanden))"
_TIME_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(
            rf"{_POD_BEFORE}(?:\bom\s+)?\b(?P<h>\d{{1,2}})[:.](?P<m>\d{{2}})\b(?:\s*uur)?"
            rf"{_POD_AFTER}"
        ),
        "clock",
    ),
    (
        re.compile(
            rf"{_POD_BEFORE}(?:\bom\s+)?\b(?P<q>kwart over|kwart voor|tien over half|"
            rf"tien voor half|half)\s+(?P<h>{_HOUR})\b{_POD_AFTER}"
        ),
        "words",
    ),
    (
        re.compile(
            rf"{_POD_BEFORE}(?:\bom\s+)?\b(?P<h>{_HOUR})\s*uur\b{_NOT_A_DURATION}"
            rf"{_POD_AFTER}"
        ),
        "hour",
    ),
    (
        re.compile(rf"{_POD_BEFORE}(?:\bom\s+)(?P<h>\d{{1,2}})\b{_NOT_A_DURATION}{_POD_AFTER}"),
        "bare_hour",
    ),
    (
        re.compile(
            r"\bover\s+(?P<n>een|een half|anderhalf|\d+|twee|drie)\s+(?P<u>uur|kwartier|minuten)\b"
        ),
        "relative",
    ),
    (re.compile(rf"(?P<pod>{_POD_RE})"), "part_of_day"),
]
_POD_DEFAULT = {"morning": "09:00", "afternoon": "14:00", "evening": "19:00", "night": "23:00"}


def _hour(raw: str) -> int | None:
    raw = fold(raw)
    if raw.isdigit():
        return int(raw)
    return _HOUR_WORDS.get(raw)


def _apply_pod(hour: int, pod: str | None) -> int:
    part = _PART_OF_DAY.get(pod or "")
    if part in ("afternoon", "evening") and hour < 12:
        return hour + 12
    if part is None and 1 <= hour <= 6:
        return hour + 12  # "om 3 uur" means the afternoon; nobody plans learning at 3 a.m.
    return hour


def find_times(text: str, now: datetime) -> Iterator[Found]:
    folded = fold(text).replace("’", "'")
    for pattern, kind in _TIME_PATTERNS:
        for m in pattern.finditer(folded):
            g = m.groupdict()
            if kind == "part_of_day":
                part = _PART_OF_DAY[g["pod"]]
                yield Found("time", m.start(), m.end(), _POD_DEFAULT[part], {"part_of_day": part})
                continue
            if kind == "relative":
                n = (
                    {"een": 1, "een half": 0.5, "anderhalf": 1.5}.get(g["n"])
                    or _number(g["n"])
                    or 1
                )
                minutes = {"uur": 60, "kwartier": 15, "minuten": 1}[g["u"]] * n
                at = now + timedelta(minutes=minutes)
                yield Found(
                    "time",
                    m.start(),
                    m.end(),
                    at.strftime("%H:%M"),
                    {"relative_minutes": int(minutes), "date": at.date().isoformat()},
                )
                continue
            hour = _hour(g["h"])
            if hour is None:
                continue
            minute = int(g["m"]) if kind == "clock" else 0
            if kind == "words":
                q = g["q"]
                if q == "half":
                    hour, minute = hour - 1, 30
                elif q == "kwart over":
                    minute = 15
                elif q == "kwart voor":
                    hour, minute = hour - 1, 45
                elif q == "tien over half":
                    hour, minute = hour - 1, 40
                elif q == "tien voor half":
                    hour, minute = hour - 1, 20
            if hour > 24:
                continue
            if kind != "clock" or hour <= 12:
                hour = _apply_pod(hour % 24, g.get("pod") or g.get("pod0"))
            if not (0 <= hour <= 23 and 0 <= minute <= 59):
                continue
            yield Found("time", m.start(), m.end(), f"{hour:02d}:{minute:02d}", {})


# ------------------------------------------------------------------------ frequencies

_SINGULAR = {
    "dag": "dag",
    "dagen": "dag",
    "week": "week",
    "weken": "week",
    "maand": "maand",
    "maanden": "maand",
}
_FREQUENCY_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], dict[str, Any]]]] = [
    (
        re.compile(
            rf"\b(?:elke|iedere|ieder|elk)\s+(?P<wd>{_WEEKDAY_RE})(?:ochtend|middag|avond)?\b"
        ),
        lambda m: {"unit": "week", "every": 1, "weekday": m["wd"]},
    ),
    (
        re.compile(r"\b(?:elke|iedere)\s+werkdag\b|\bop werkdagen\b"),
        lambda m: {"unit": "weekday", "every": 1},
    ),
    (
        re.compile(r"\b(?:elke|iedere|ieder|elk)\s+(?P<u>dag|week|maand|jaar)\b"),
        lambda m: {"unit": m["u"], "every": 1},
    ),
    (
        re.compile(
            r"\b(?:elke|iedere|ieder|elk)\s+(?P<n>\d+|twee|drie|vier|vijf|zes)\s+"
            r"(?P<u>dagen|weken|maanden)\b"
        ),
        lambda m: {"unit": _SINGULAR[m["u"]], "every": int(_number(m["n"]) or 2)},
    ),
    (
        re.compile(r"\bom\s+de\s+(?:(?P<n>\w+)\s+)?(?P<u>dag|dagen|week|weken|maand|maanden)\b"),
        lambda m: {"unit": _SINGULAR[m["u"]], "every": int(_number(m["n"]) or 2) if m["n"] else 2},
    ),
    (
        re.compile(r"\b(?P<w>dagelijks|wekelijks|tweewekelijks|maandelijks|jaarlijks)\b"),
        lambda m: {
            "dagelijks": {"unit": "dag", "every": 1},
            "wekelijks": {"unit": "week", "every": 1},
            "tweewekelijks": {"unit": "week", "every": 2},
            "maandelijks": {"unit": "maand", "every": 1},
            "jaarlijks": {"unit": "jaar", "every": 1},
        }[m["w"]],
    ),
    (
        re.compile(r"(?<!keer )(?<!maal )\bper\s+(?P<u>dag|week|maand|jaar)\b"),
        lambda m: {"unit": m["u"], "every": 1},
    ),
    (
        re.compile(
            r"\b(?P<n>\d+|een|één|eén|twee|drie|vier|vijf)\s*(?:keer|x|maal)\s+(?:per|in\s+de|per\s+de)"
            r"\s+(?P<u>dag|week|maand|jaar)\b"
        ),
        lambda m: {"unit": m["u"], "every": 1, "times": int(_number(fold(m["n"])) or 1)},
    ),
]


def _frequency_value(info: dict[str, Any]) -> str:
    unit = {"dag": "day", "week": "week", "maand": "month", "jaar": "year", "weekday": "weekday"}[
        info["unit"]
    ]
    value = f"every {info.get('every', 1)} {unit}"
    if "times" in info:
        value = f"{info['times']}x per {unit}"
    if "weekday" in info:
        value += f" on {info['weekday']}"
    return value


def find_frequencies(text: str, now: datetime) -> Iterator[Found]:
    folded = fold(text)
    for pattern, build in _FREQUENCY_PATTERNS:
        for m in pattern.finditer(folded):
            info = build(m)
            yield Found("frequency", m.start(), m.end(), _frequency_value(info), info)


# -------------------------------------------------------------------------- durations

_DURATION_RE = re.compile(
    rf"\b(?P<n>{_COUNT})\s+(?P<u>uur|uren|minuten|minuut|dagen|dag|weken|week|maanden|maand|jaar|jaren)\b"
)
_ISO_UNIT = {
    "uur": "H",
    "uren": "H",
    "minuten": "M",
    "minuut": "M",
    "dag": "D",
    "dagen": "D",
    "week": "W",
    "weken": "W",
    "maand": "M",
    "maanden": "M",
    "jaar": "Y",
    "jaren": "Y",
}


def find_durations(text: str, now: datetime) -> Iterator[Found]:
    folded = fold(text)
    for m in _DURATION_RE.finditer(folded):
        n = _count(m["n"])
        if n is None:
            continue
        unit = _ISO_UNIT[m["u"]]
        time_part = m["u"] in ("uur", "uren", "minuten", "minuut")
        if n != int(n):  # "anderhalf jaar" -> P18M, "een half uur" -> PT30M
            if unit == "Y":
                n, unit = n * 12, "M"
            elif unit == "H":
                n, unit = n * 60, "M"
            elif unit == "W":
                n, unit = n * 7, "D"
            elif unit == "M" and not time_part:
                n, unit = n * 30, "D"
        amount = round(n)
        value = f"PT{amount}{unit}" if time_part else f"P{amount}{unit}"
        yield Found("duration", m.start(), m.end(), value, {"approximate": "paar" in m["n"]})


# -------------------------------------------------------------------- education level

_LEVEL_RE = re.compile(
    r"\b(?:(?P<mbo>mbo)(?:[\s-]*(?:niveau\s*)?(?P<mbo_n>[1-4]))?"
    r"|(?P<nlqf>nlqf|eqf)[\s-]*(?:niveau\s*)?(?P<nlqf_n>[1-8])"
    r"|(?P<hbo>hbo|hogeschool|hbo-bachelor|associate degree|ad-opleiding)"
    r"|(?P<wo>wo|universiteit|universitair|university)"
    r"|niveau\s*(?P<niveau_n>[1-4]))\b"
)


def find_education_levels(text: str, now: datetime) -> Iterator[Found]:
    for m in _LEVEL_RE.finditer(fold(text)):
        g = m.groupdict()
        if g["mbo"]:
            value = f"mbo-{g['mbo_n']}" if g["mbo_n"] else "mbo"
        elif g["nlqf"]:
            value = f"nlqf-{g['nlqf_n']}"
        elif g["hbo"]:
            value = "hbo"
        elif g["wo"]:
            value = "wo"
        else:
            value = f"mbo-{g['niveau_n']}"
        yield Found("education_level", m.start(), m.end(), value, {})


FINDERS: tuple[Callable[[str, datetime], Iterator[Found]], ...] = (
    find_amounts,
    find_dates,
    find_times,
    find_frequencies,
    find_durations,
    find_education_levels,
)
