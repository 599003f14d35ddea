"""`leerloop rasa export DIR`: a ready Rasa 3.6 project made from Leerloop's own data.

Two ways to understand Dutch (`nlu`):
- `leerloop` (default): Rasa asks Leerloop's `/model/parse` (`endpoints.yml` `nlu: url:`), the
  project has no NLU data and `rasa train` trains only the rules (seconds);
- `diet`: Rasa's own recommended pipeline for a language without pretrained embeddings (DIET),
  trained on Leerloop's examples (`data/nlu.yml`), `epochs` as given (minutes to an hour).
Either way the rules send every intent to a Leerloop custom action (`endpoints.yml`
`action_endpoint:`), which answers with Leerloop's flows and texts.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from bot.rasa._action_server import (
    ACTION_NAMES,
    BUTTON_ENTITY,
    BUTTON_INTENT,
    CAPABILITY_ACTIONS,
    GENERIC_ACTION,
    rasa_slot_types,
)
from dialogues import FlowSet, ResponseCatalogue
from nlu.intents import ENTITY_TYPES, Intent

DEFAULT_NLU_URL = "http://127.0.0.1:8080"
DEFAULT_ACTION_URL = "http://127.0.0.1:5055/webhook"
DEFAULT_EPOCHS = 100  # what Rasa's recommended pipeline uses
ASSISTANT_ID = "leerloop"


class NluMode(StrEnum):
    LEERLOOP = "leerloop"
    DIET = "diet"


@dataclass(frozen=True)
class ExportOptions:
    nlu: NluMode = NluMode.LEERLOOP
    nlu_url: str = DEFAULT_NLU_URL
    action_url: str = DEFAULT_ACTION_URL
    token: str | None = None
    epochs: int = DEFAULT_EPOCHS


def _action_for(intent: Intent) -> str:
    for name, capability in CAPABILITY_ACTIONS.items():
        if capability is intent:
            return name
    return GENERIC_ACTION


def intents() -> list[str]:
    """The design's intents (without Rasa's own `nlu_fallback`) and Leerloop's button intent."""
    return [i.value for i in Intent if i is not Intent.NLU_FALLBACK] + [BUTTON_INTENT]


def domain(slot_types: dict[str, str], responses: ResponseCatalogue) -> dict[str, Any]:
    """domain.yml: intents, entities, slots (set by Leerloop's actions), responses, actions."""
    static = {
        f"utter_{key}": [{"text": text} for text in responses.variants(key)]
        for key in sorted(responses.names())
        if not responses.placeholders(key)
    }
    return {
        "version": "3.1",
        "intents": intents(),
        "entities": [*sorted(ENTITY_TYPES), BUTTON_ENTITY],
        "slots": {
            name: {
                "type": kind,
                "influence_conversation": False,
                "mappings": [{"type": "custom"}],  # only the actions' events set them
            }
            for name, kind in slot_types.items()
        },
        "responses": static,
        "actions": list(ACTION_NAMES),
        "session_config": {"session_expiration_time": 60, "carry_over_slots_to_new_session": True},
    }


def rules() -> dict[str, Any]:
    """data/rules.yml: every intent (and Rasa's fallback) to the Leerloop action for it."""
    steps = [(i.value, _action_for(i)) for i in Intent if i is not Intent.NLU_FALLBACK]
    steps += [(BUTTON_INTENT, GENERIC_ACTION), (Intent.NLU_FALLBACK.value, GENERIC_ACTION)]
    return {
        "version": "3.1",
        "rules": [
            {"rule": f"{intent} via Leerloop", "steps": [{"intent": intent}, {"action": action}]}
            for intent, action in steps
        ],
    }


def config(options: ExportOptions) -> dict[str, Any]:
    """config.yml: no pipeline when Leerloop parses; Rasa's recommended DIET pipeline else."""
    pipeline: list[dict[str, Any]] = []
    if options.nlu is NluMode.DIET:
        pipeline = [
            {"name": "WhitespaceTokenizer"},
            {"name": "RegexFeaturizer"},
            {"name": "LexicalSyntacticFeaturizer"},
            {"name": "CountVectorsFeaturizer"},
            {
                "name": "CountVectorsFeaturizer",
                "analyzer": "char_wb",
                "min_ngram": 1,
                "max_ngram": 4,
            },
            {"name": "DIETClassifier", "epochs": options.epochs, "constrain_similarities": True},
            {"name": "EntitySynonymMapper"},
            {"name": "FallbackClassifier", "threshold": 0.3, "ambiguity_threshold": 0.1},
        ]
    return {
        "recipe": "default.v1",
        "assistant_id": ASSISTANT_ID,
        "language": "nl",
        "pipeline": pipeline,
        "policies": [{"name": "RulePolicy", "enable_fallback_prediction": False}],
    }


def endpoints(options: ExportOptions) -> dict[str, Any]:
    action: dict[str, Any] = {"url": options.action_url}
    out: dict[str, Any] = {"action_endpoint": action}
    if options.token:
        action["token"] = options.token
    if options.nlu is NluMode.LEERLOOP:
        out["nlu"] = {"url": options.nlu_url}
        if options.token:
            out["nlu"]["token"] = options.token
    return out


def nlu_data() -> str:
    """data/nlu.yml: Leerloop's training examples and synonyms in Rasa's NLU YAML."""
    import nlu

    data = nlu.load_training_data()
    text: str = nlu.to_rasa_yaml(data.examples)
    by_value: dict[str, list[str]] = {}
    for variant, canonical in sorted(data.synonyms.items()):
        if variant != canonical.casefold():
            by_value.setdefault(canonical, []).append(variant)
    for canonical, variants in by_value.items():
        text += f"- synonym: {_quoted(canonical)}\n  examples: |\n"
        text += "".join(f"    - {v}\n" for v in variants)
    return text


def _quoted(value: str) -> str:
    return yaml.safe_dump(value, allow_unicode=True, default_style='"').strip()


def _dump(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def export_project(
    directory: Path,
    options: ExportOptions | None = None,
    *,
    flows: FlowSet | None = None,
    responses: ResponseCatalogue | None = None,
) -> list[Path]:
    """Write the project into `directory`; the files written."""
    options = options or ExportOptions()
    slot_types = rasa_slot_types(flows or FlowSet.load())
    responses = responses or ResponseCatalogue.load()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "data").mkdir(exist_ok=True)
    files = {
        "domain.yml": _dump(domain(slot_types, responses)),
        "config.yml": _dump(config(options)),
        "endpoints.yml": _dump(endpoints(options)),
        "credentials.yml": _dump({"rest": None}),
        "data/rules.yml": _dump(rules()),
    }
    stale = directory / "data" / "nlu.yml"
    if options.nlu is NluMode.DIET:
        files["data/nlu.yml"] = nlu_data()
    elif stale.exists():  # a project exported for DIET before: Leerloop parses now
        stale.unlink()
    header = "# Made by `leerloop rasa export` from Leerloop's own data; export again to refresh.\n"
    written = []
    for name, content in files.items():
        path = directory / name
        path.write_text(header + content, encoding="utf-8")
        written.append(path)
    return written
