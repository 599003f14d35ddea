"""Rasa 3.x NLU training data (YAML): intents with annotated examples, synonyms, lookups."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).resolve().parent / "data"

# [text](entity), [text](entity:value) or [text]{"entity": "x", "value": "y"}
_ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<short>[^)]+)\)|(?P<json>\{[^}]+\}))")

# libyaml when PyYAML has it: the same safe objects, about ten times faster than pure Python.
YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class EntitySpan:
    entity: str
    start: int
    end: int
    value: str


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    entities: tuple[EntitySpan, ...] = ()


@dataclass
class TrainingData:
    examples: list[Example] = field(default_factory=list)
    synonyms: dict[str, str] = field(default_factory=dict)  # variant (casefolded) -> canonical
    lookups: dict[str, list[str]] = field(default_factory=dict)

    @property
    def intents(self) -> list[str]:
        return sorted({e.intent for e in self.examples})

    def merge(self, other: TrainingData) -> None:
        self.examples.extend(other.examples)
        self.synonyms.update(other.synonyms)
        for name, values in other.lookups.items():
            self.lookups.setdefault(name, []).extend(values)


def parse_example(line: str, intent: str) -> Example:
    """Strip entity annotations from one example line, keeping their offsets."""
    text_parts: list[str] = []
    entities: list[EntitySpan] = []
    position = 0
    cursor = 0
    for match in _ANNOTATION.finditer(line):
        before = line[cursor : match.start()]
        text_parts.append(before)
        position += len(before)
        surface = match["text"]
        if match["json"]:
            spec: dict[str, Any] = json.loads(match["json"])
            entity, value = str(spec["entity"]), str(spec.get("value", surface))
        else:
            entity, _, value = match["short"].partition(":")
            value = value or surface
        entities.append(EntitySpan(entity, position, position + len(surface), value))
        text_parts.append(surface)
        position += len(surface)
        cursor = match.end()
    text_parts.append(line[cursor:])
    return Example("".join(text_parts).strip(), intent, tuple(entities))


def _items(raw: str | list[Any]) -> list[str]:
    """Examples as Rasa writes them: a `|` block of "- " lines, or a list of strings or of
    `{text: ..., metadata: ...}` mappings."""
    if isinstance(raw, list):
        return [str(item["text"] if isinstance(item, dict) else item).strip() for item in raw]
    return [line.strip()[2:].strip() for line in raw.splitlines() if line.strip().startswith("- ")]


def load_yaml(path: Path) -> TrainingData:
    doc = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER) or {}  # noqa: S506
    data = TrainingData()
    for block in doc.get("nlu", []) or []:
        if "intent" in block:
            data.examples.extend(
                parse_example(line, block["intent"]) for line in _items(block["examples"])
            )
        elif "synonym" in block:
            for variant in _items(block["examples"]):
                data.synonyms[variant.casefold()] = block["synonym"]
        elif "lookup" in block:
            data.lookups.setdefault(block["lookup"], []).extend(_items(block["examples"]))
        elif "regex" in block:
            pass  # no regexes are used: number and date patterns live in the normalisers
        else:
            raise ValueError(f"{path.name}: unknown block {sorted(block)}")
    return data


def _key(text: str) -> str:
    return " ".join(text.casefold().split()).strip(" .!?,")


def load_training_data(paths: Iterable[Path] | None = None) -> TrainingData:
    """All training files merged; a repeated example is kept once, and an example under two
    intents is an error (it would teach the model both, and leak between CV folds)."""
    data = TrainingData()
    for path in sorted(paths or DATA_DIR.glob("*.yml")):
        data.merge(load_yaml(path))
    seen: dict[str, str] = {}
    unique: list[Example] = []
    for example in data.examples:
        key = _key(example.text) or example.text
        if key in seen:
            if seen[key] != example.intent:
                raise ValueError(
                    f"{example.text!r} is labelled both {seen[key]} and {example.intent}"
                )
            continue
        seen[key] = example.intent
        unique.append(example)
    data.examples = unique
    return data


def read_csv(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def fingerprint(paths: Iterable[Path]) -> str:
    """A hash of the files a model is trained from; a changed file means a stale model."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def to_rasa_yaml(examples: Iterable[Example]) -> str:
    """Write examples (with annotations) as Rasa NLU YAML."""
    by_intent: dict[str, list[str]] = {}
    for ex in examples:
        line, offset = ex.text, 0
        for ent in sorted(ex.entities, key=lambda e: e.start):
            start, end = ent.start + offset, ent.end + offset
            annotated = f"[{line[start:end]}]({ent.entity})"
            line = line[:start] + annotated + line[end:]
            offset += len(annotated) - (ent.end - ent.start)
        by_intent.setdefault(ex.intent, []).append(line)
    out = ['version: "3.1"', "nlu:"]
    for intent, lines in by_intent.items():
        out.append(f"- intent: {intent}\n  examples: |")
        out.extend(f"    - {line}" for line in lines)
    return "\n".join(out) + "\n"
