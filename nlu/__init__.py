"""Dutch NLU for Leerloop (standalone: imports no other Leerloop package).

Rasa's open formats (NLU YAML training data, parse-result shape) on a spaCy pipeline:
`NluModel.train()`, `.save()`, `.load()`, `.parse(text)`; `evaluate` and `cross_validate`.
"""

from nlu._config import NluConfig, load_config
from nlu._data import Example, TrainingData, load_training_data, load_yaml, to_rasa_yaml
from nlu._evaluate import cross_validate, evaluate, format_report
from nlu._model import MODEL_DIR, NluModel, is_stale, load_or_train
from nlu.intents import ENTITY_TYPES, Intent

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
