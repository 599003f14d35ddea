"""The NLU as the dialogue manager's interpreter.

The model takes a second or two to import and load; `in_background` does both in a thread so
the bot answers commands and buttons at once, and the first free-text message waits for it.
The thread is a daemon of its own, not the event loop's default executor: `asyncio.run` waits
for that executor at exit, so a process stopped right after start-up would otherwise hang until
the model had loaded (on a busy machine, longer than a service manager waits for a SIGTERM).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
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
        """Start loading in a daemon thread; call inside a running event loop."""
        loaded: concurrent.futures.Future[NluModel] = concurrent.futures.Future()

        def load() -> None:
            try:
                loaded.set_result(_load())
            except Exception as exc:  # handed to whoever awaits the model
                loaded.set_exception(exc)

        threading.Thread(target=load, name="nlu-load", daemon=True).start()
        return cls(asyncio.wrap_future(loaded))

    @property
    def model(self) -> NluModel:
        if isinstance(self._model, asyncio.Future):
            return self._model.result()  # raises while it is still loading
        return self._model

    async def wait_loaded(self) -> None:
        """Return once the model is loaded (raises what loading raised)."""
        if isinstance(self._model, asyncio.Future):
            self._model = await self._model

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
