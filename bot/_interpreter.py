"""The NLU as the dialogue manager's interpreter.

The model takes a second or two to import and load; `in_background` does both in a thread so
the bot answers commands and buttons at once, and the first free-text message waits for it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dialogues import Understanding

if TYPE_CHECKING:
    from nlu import NluModel

logger = logging.getLogger(__name__)


def _load() -> NluModel:
    import nlu  # spaCy and scikit-learn are imported here, off the event loop

    return nlu.load_or_train()


class NluInterpreter:
    def __init__(self, model: NluModel | asyncio.Future[NluModel]) -> None:
        self._model = model

    @classmethod
    def load(cls) -> NluInterpreter:
        """Load (training first when the model is missing or stale) and return when ready."""
        return cls(_load())

    @classmethod
    def in_background(cls) -> NluInterpreter:
        """Start loading in a worker thread; call inside a running event loop."""
        return cls(asyncio.ensure_future(asyncio.to_thread(_load)))

    @property
    def model(self) -> NluModel:
        if isinstance(self._model, asyncio.Future):
            return self._model.result()  # raises while it is still loading
        return self._model

    async def parse(self, text: str, now: datetime | None = None) -> dict[str, Any]:
        """The whole parse result in Rasa's shape (what `/model/parse` answers)."""
        if isinstance(self._model, asyncio.Future):
            self._model = await self._model
            logger.info("nlu: model ready")
        return self._model.parse(text, now)

    async def understand(self, text: str, now: datetime | None = None) -> Understanding:
        parsed = await self.parse(text, now)
        return Understanding(
            intent=parsed["intent"]["name"],
            confidence=parsed["intent"]["confidence"],
            ranking=tuple((r["name"], r["confidence"]) for r in parsed["intent_ranking"]),
            entities=tuple(parsed["entities"]),
        )
