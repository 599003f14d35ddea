"""`config.yml`: the NLU pipeline settings, validated."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from nlu._data import YAML_LOADER

CONFIG_FILE = Path(__file__).resolve().parent.parent / "config.yml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EntitySettings(_Strict):
    regulations: tuple[str, ...]
    course_formats: tuple[str, ...]


class ClassifierSettings(_Strict):
    kind: Literal["char_word_logreg", "logreg_ensemble", "spacy_textcat"] = "char_word_logreg"
    char_ngrams: tuple[int, int] = (2, 5)
    word_ngrams: tuple[int, int] = (1, 2)
    C: float = Field(default=20.0, gt=0)
    textcat_epochs: int = Field(default=20, gt=0)
    augment_typos: bool = True
    augment_synonyms: bool = True


class FallbackSettings(_Strict):
    threshold: float = Field(default=0.3, ge=0, le=1)
    ambiguity_threshold: float = Field(default=0.05, ge=0, le=1)


class NluConfig(_Strict):
    language: str = "nl"
    random_seed: int = 42
    entities: EntitySettings
    classifier: ClassifierSettings
    fallback: FallbackSettings


def load_config(path: Path = CONFIG_FILE) -> NluConfig:
    raw: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)  # noqa: S506
    steps = {
        step["name"]: {k: v for k, v in step.items() if k != "name"} for step in raw["pipeline"]
    }
    unknown = set(steps) - {
        "SpacyTokenizer",
        "LeerloopEntityExtractor",
        "IntentClassifier",
        "FallbackClassifier",
    }
    if unknown:
        raise ValueError(f"config.yml: unknown pipeline components {sorted(unknown)}")
    return NluConfig(
        language=raw.get("language", "nl"),
        random_seed=raw.get("random_seed", 42),
        entities=EntitySettings(**steps["LeerloopEntityExtractor"]),
        classifier=ClassifierSettings(**steps.get("IntentClassifier", {})),
        fallback=FallbackSettings(**steps.get("FallbackClassifier", {})),
    )
