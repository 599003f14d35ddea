"""Entity extraction: lookup tables (ESCO occupations and skills, places, regulations, topics,
course formats) matched on folded lemmas, plus the Dutch normalisers for numbers and time."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from nlu._data import TrainingData, read_csv
from nlu._normalise import FINDERS, Found
from nlu._phrases import PhraseIndex

LOOKUP_EXTRACTOR = "LeerloopLookupExtractor"
NORMALISER_EXTRACTOR = "LeerloopNormaliser"

# Labels that ESCO lists as occupations but people use for anyone ("een adviseur spreken").
_GENERIC_OCCUPATIONS = frozenset(
    {
        "adviseur",
        "medewerker",
        "assistent",
        "coach",
        "begeleider",
        "contactpersoon",
        "loopbaanadviseur",
        "loopbaancoach",
        "adviseuse",
        "hulp",
        "manager",
        "vertegenwoordiger",
    }
)
# Place names that are also ordinary Dutch words: only matched when written with a capital.
_CAPITALISED_ONLY = frozenset({"Best", "Houten", "Weert", "Goes", "Hulst", "Ede", "Urk"})
# When a phrase is both a skill and a course topic, these intents mean "skill".
_SKILL_INTENTS = frozenset({"reflect_skills", "start_learning_loop", "inform", "report_progress"})
# Normalised entities win over lookups on an equal span; earlier in this list wins.
_PRIORITY = (
    "amount",
    "date",
    "time",
    "frequency",
    "duration",
    "education_level",
    "regulation",
    "course_format",
    "occupation",
    "location",
    "skill",
    "topic",
)


@dataclass(frozen=True)
class EntityConfig:
    regulations: tuple[str, ...]
    course_formats: tuple[str, ...]
    location_lookups: tuple[str, ...] = ("province", "labour_market_region", "foreign_place")


@dataclass
class _Entry:
    entity: str
    value: str
    info: dict[str, Any] = field(default_factory=dict)


_Match = tuple[int, int, list[_Entry]]


class EntityExtractor:
    """Finds entities in a parsed doc. `build` makes the lookup table from the training data
    and ESCO files (once, at training); the table is saved with the model."""

    def __init__(self, by_norm: dict[str, list[_Entry]]) -> None:
        self.by_norm = by_norm
        self.index = PhraseIndex(by_norm)

    @classmethod
    def build(cls, nlp: Language, data: TrainingData, config: EntityConfig) -> EntityExtractor:
        return cls(_TableBuilder(nlp, data, config).by_norm)

    def _raw(self, doc: Doc, now: datetime) -> tuple[list[_Match], list[Found]]:
        """Lookup matches and normalised values, which do not depend on the intent: found once
        per doc (features and the final parse both ask), kept in the doc's user data."""
        key = f"leerloop_entities@{now.isoformat()}"
        raw = doc.user_data.get(key)
        if raw is None:
            raw = (
                list(self.index.matches(doc)),
                [f for finder in FINDERS for f in finder(doc.text, now)],
            )
            doc.user_data[key] = raw
        return raw

    def lookup_matches(
        self, doc: Doc, matches: Iterable[_Match], intent: str | None
    ) -> Iterable[Found]:
        for start, end, candidates in matches:
            span = doc[start:end]
            if span.text.capitalize() in _CAPITALISED_ONLY and span.text not in _CAPITALISED_ONLY:
                continue  # "best" is a word, "Best" a town
            kinds = {c.entity for c in candidates}
            if {"skill", "topic"} <= kinds:
                drop = "topic" if intent in _SKILL_INTENTS else "skill"
                candidates = [c for c in candidates if c.entity != drop]
            best = min(candidates, key=lambda c: _PRIORITY.index(c.entity))
            yield Found(best.entity, span.start_char, span.end_char, best.value, dict(best.info))

    def extract(self, doc: Doc, now: datetime, intent: str | None = None) -> list[dict[str, Any]]:
        """Entities in Rasa's shape, longest match first, no overlaps."""
        matches, normalised = self._raw(doc, now)
        found: list[tuple[Found, str]] = [
            (f, LOOKUP_EXTRACTOR) for f in self.lookup_matches(doc, matches, intent)
        ]
        found.extend((f, NORMALISER_EXTRACTOR) for f in normalised)
        found.sort(
            key=lambda p: (-(p[0].end - p[0].start), _PRIORITY.index(p[0].entity), p[0].start)
        )
        taken: list[tuple[int, int]] = []
        chosen: list[tuple[Found, str]] = []
        for item, extractor in found:
            if any(item.start < e and s < item.end for s, e in taken):
                continue
            taken.append((item.start, item.end))
            chosen.append((item, extractor))
        chosen.sort(key=lambda p: p[0].start)
        entities = []
        for item, extractor in chosen:
            entity: dict[str, Any] = {
                "entity": item.entity,
                "start": item.start,
                "end": item.end,
                "value": item.value,
                "text": doc.text[item.start : item.end],
                "extractor": extractor,
            }
            if item.info:
                entity["additional_info"] = item.info
            entities.append(entity)
        return entities


class _TableBuilder:
    """Collects phrase -> entries from every source and keys them by folded lemmas."""

    def __init__(self, nlp: Language, data: TrainingData, config: EntityConfig) -> None:
        self.nlp = nlp
        self.entries: dict[str, list[_Entry]] = {}
        synonyms = data.synonyms

        def canonical(text: str) -> str:
            return synonyms.get(text.casefold(), text)

        for variant, value in synonyms.items():
            if value in config.regulations:
                self._add(variant, _Entry("regulation", value))
            elif value in config.course_formats:
                self._add(variant, _Entry("course_format", value))
        for value in config.regulations:
            self._add(value, _Entry("regulation", value))
        for value in config.course_formats:
            self._add(value, _Entry("course_format", value))

        for kind in config.location_lookups:
            for name in data.lookups.get(kind, []):
                self._add(name, _Entry("location", canonical(name), {"kind": kind}))
        for row in read_csv("places.csv"):
            self._add(
                row["place"],
                _Entry(
                    "location",
                    canonical(row["place"]),
                    {"kind": "place", "province": row["province"]},
                ),
            )

        for name in data.lookups.get("topic", []):
            self._add(name, _Entry("topic", canonical(name)))
        for variant, value in synonyms.items():
            if value in data.lookups.get("topic", []):
                self._add(variant, _Entry("topic", value))
        for name in data.lookups.get("skill", []):
            self._add(name, _Entry("skill", canonical(name)))
        for row in read_csv("esco_skill_groups.csv"):
            self._add(
                row["label"],
                _Entry("skill", row["label"], {"esco_uri": row["uri"], "level": int(row["level"])}),
            )

        occupations = read_csv("esco_occupations.csv")
        info_by_label = {
            row["label"]: {"esco_uri": row["uri"], "isco_group": row["isco_group"]}
            for row in occupations
        }
        # Everyday job names that ESCO only knows in a longer form ("verpleegkundige") go
        # first, so they win over an ESCO alternative label for the same words.
        for row in read_csv("occupations_everyday.csv"):
            label = row["esco_label"]
            self._add(row["word"], _Entry("occupation", label, info_by_label[label]))
        for row in occupations:
            info = info_by_label[row["label"]]
            for label in [row["label"], *filter(None, row["alt_labels"].split("|"))]:
                if len(label) >= 3 and label.casefold() not in _GENERIC_OCCUPATIONS:
                    self._add(label, _Entry("occupation", row["label"], info))
        self._compile()

    def _add(self, phrase: str, entry: _Entry) -> None:
        key = phrase.strip()
        if not key:
            return
        entries = self.entries.setdefault(key.casefold(), [])
        if all((e.entity, e.value) != (entry.entity, entry.value) for e in entries):
            entries.append(entry)

    def _compile(self) -> None:
        by_norm: dict[str, list[_Entry]] = {}
        phrases = list(self.entries)
        for phrase, doc in zip(phrases, self.nlp.pipe(phrases, batch_size=1000), strict=True):
            norm = " ".join(t.norm_ for t in doc)
            bucket = by_norm.setdefault(norm, [])
            for entry in self.entries[phrase]:
                if all((e.entity, e.value) != (entry.entity, entry.value) for e in bucket):
                    bucket.append(entry)
        self.by_norm = by_norm
