"""Dutch NLU for Leerloop (standalone: imports no other Leerloop package).

Rasa's open formats (NLU YAML training data, parse-result shape) on a spaCy pipeline:
`NluModel.train()`, `.save()`, `.load()`, `.parse(text)`; `evaluate` and `cross_validate`.

The intent contract is imported at once; the pipeline (spaCy, scikit-learn) only when one of
its names is first used, so importing `nlu.Intent` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from nlu.intents import ENTITY_TYPES, Intent

if TYPE_CHECKING:
    from nlu._config import NluConfig, load_config
    from nlu._data import Example, TrainingData, load_training_data, load_yaml, to_rasa_yaml
    from nlu._evaluate import cross_validate, evaluate, format_report
    from nlu._model import MODEL_DIR, NluModel, is_stale, load_or_train

_LAZY = {
    "NluConfig": "nlu._config",
    "load_config": "nlu._config",
    "Example": "nlu._data",
    "TrainingData": "nlu._data",
    "load_training_data": "nlu._data",
    "load_yaml": "nlu._data",
    "to_rasa_yaml": "nlu._data",
    "cross_validate": "nlu._evaluate",
    "evaluate": "nlu._evaluate",
    "format_report": "nlu._evaluate",
    "MODEL_DIR": "nlu._model",
    "NluModel": "nlu._model",
    "is_stale": "nlu._model",
    "load_or_train": "nlu._model",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'nlu' has no attribute {name!r}")


__all__ = [
    "ENTITY_TYPES",
    "MODEL_DIR",
    "Example",
    "Intent",
    "NluConfig",
    "NluModel",
    "TrainingData",
    "cross_validate",
    "evaluate",
    "format_report",
    "is_stale",
    "load_config",
    "load_or_train",
    "load_training_data",
    "load_yaml",
    "to_rasa_yaml",
]
