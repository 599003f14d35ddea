"""The NLU as the dialogue manager's interpreter."""

from __future__ import annotations

import logging
from pathlib import Path

from dialogues import Understanding
from nlu import MODEL_DIR, NluModel, load_or_train

logger = logging.getLogger(__name__)


class NluInterpreter:
    """Parses text with the trained NLU model and hands the dialogue what it needs."""

    def __init__(self, model: NluModel) -> None:
        self.model = model

    @classmethod
    def load(cls, directory: Path = MODEL_DIR) -> NluInterpreter:
        return cls(load_or_train(directory))

    def understand(self, text: str) -> Understanding:
        parsed = self.model.parse(text)
        return Understanding(
            intent=parsed["intent"]["name"],
            confidence=parsed["intent"]["confidence"],
            ranking=tuple((r["name"], r["confidence"]) for r in parsed["intent_ranking"]),
            entities=tuple(parsed["entities"]),
        )
