"""Occupations (ESCO) for coaching: find one in what a worker types, its neighbours in the
ISCO hierarchy, and the skill groups a reflection asks about for it."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict
from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.yaml_files import load_yaml
from knowledge.models import Occupation, Skill
from knowledge.text import fold

DATA_DIR = Path(__file__).resolve().parent / "data"
_FUZZY_CUTOFF = 90
_MAX_WORDS = 4
_WORD_RE = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)*", re.UNICODE)


@dataclass(frozen=True)
class OccupationRef:
    uri: str
    label: str
    isco_code: str
    description: str = ""


@dataclass(frozen=True)
class SkillGroup:
    uri: str
    code: str
    label: str  # ESCO's own label
    examples: tuple[str, ...]  # level-2 groups under it
    plain: str = ""  # the same in everyday words (knowledge/data/skill_words.yml)

    @property
    def everyday(self) -> str:
        return self.plain or self.label


class _Profiles(BaseModel):
    """Level-1 skill group code -> the level-2 codes shown as its examples."""

    model_config = ConfigDict(extra="forbid")
    by_isco_major: dict[str, dict[str, list[str]]]
    default: dict[str, list[str]]
    transversal: dict[str, list[str]]


@cache
def _profiles() -> _Profiles:
    data = load_yaml(DATA_DIR / "skill_profiles.yml")
    return _Profiles.model_validate(data)


@cache
def _skill_words() -> dict[str, str]:
    data = load_yaml(DATA_DIR / "skill_words.yml")
    return {str(code): str(words) for code, words in data.items()}


@cache
def _generic_words() -> frozenset[str]:
    lines = (DATA_DIR / "occupation_generic_words.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(fold(w) for w in lines if w.strip() and not w.startswith("#"))


@cache
def _everyday() -> dict[str, str]:
    with (DATA_DIR / "occupations_everyday.csv").open(encoding="utf-8") as f:
        return {fold(r["word"]): fold(r["esco_label"]) for r in csv.DictReader(f)}


class OccupationIndex:
    """Every ESCO occupation by its folded labels (preferred label first, then everyday words,
    then alternative labels)."""

    def __init__(self, occupations: list[Occupation]) -> None:
        self.by_uri = {
            o.uri: OccupationRef(o.uri, o.label, o.isco_code, o.description) for o in occupations
        }
        self.by_label: dict[str, str] = {}
        for o in sorted(occupations, key=lambda o: o.uri):
            self.by_label.setdefault(fold(o.label), o.uri)
        for word, label in _everyday().items():
            if label in self.by_label:
                self.by_label.setdefault(word, self.by_label[label])
        generic = _generic_words()
        for o in sorted(occupations, key=lambda o: o.uri):
            for alt in o.alt_labels:
                if fold(alt) not in generic:
                    self.by_label.setdefault(fold(alt), o.uri)
        self._labels = list(self.by_label)

    def find(self, text: str) -> OccupationRef | None:
        """The occupation named in `text`: the longest exact run of words, else a close match."""
        words = _WORD_RE.findall(fold(text))
        for size in range(min(_MAX_WORDS, len(words)), 0, -1):
            for start in range(len(words) - size + 1):
                uri = self.by_label.get(" ".join(words[start : start + size]))
                if uri is not None:
                    return self.by_uri[uri]
        for size in range(min(_MAX_WORDS, len(words)), 0, -1):
            for start in range(len(words) - size + 1):
                phrase = " ".join(words[start : start + size])
                if len(phrase) < 5:
                    continue
                found = process.extractOne(
                    phrase, self._labels, scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF
                )
                if found is not None:
                    return self.by_uri[self.by_label[found[0]]]
        return None

    def related(self, uri: str, limit: int = 5) -> list[OccupationRef]:
        """Neighbours: the same 4-digit ISCO group first, then the same 3-digit group."""
        me = self.by_uri.get(uri)
        if me is None:
            return []
        found: list[OccupationRef] = []
        for digits in (4, 3):
            prefix = me.isco_code[:digits]
            group = sorted(
                (
                    o
                    for o in self.by_uri.values()
                    if o.uri != uri and o.isco_code.startswith(prefix) and o not in found
                ),
                key=lambda o: (len(o.label), o.label),
            )
            found += group[: limit - len(found)]
            if len(found) >= limit:
                break
        return found


async def skill_groups_for(session: AsyncSession, isco_code: str | None) -> list[SkillGroup]:
    """The skill groups a reflection asks about for work in this ISCO group."""
    profiles = _profiles()
    chosen = {
        **profiles.by_isco_major.get((isco_code or "")[:1], profiles.default),
        **profiles.transversal,
    }
    wanted = set(chosen) | {code for examples in chosen.values() for code in examples}
    by_code: dict[str, Skill] = {}
    for skill in (await session.scalars(select(Skill).where(Skill.code.in_(wanted)))).all():
        # Some codes are shared by a group and its "x.0" twin; keep the broadest.
        if skill.code not in by_code or skill.level < by_code[skill.code].level:
            by_code[skill.code] = skill
    return [
        SkillGroup(
            by_code[code].uri,
            code,
            by_code[code].label,
            tuple(by_code[e].label for e in examples if e in by_code),
            _skill_words().get(code, ""),
        )
        for code, examples in chosen.items()
    ]
