"""The NLU as the dialogue manager's interpreter.

The model takes a second or two to import and load; `in_background` does both in a thread so
the bot answers commands and buttons at once, and the first free-text message waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from datetime import datetime
from typing import TYPE_CHECKING

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
        """Start loading in a daemon thread; call inside a running event loop.

        A daemon thread, not the loop's executor: a process told to stop (SIGTERM) while the
        model still loads ends at once instead of waiting for the load to finish.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[NluModel] = loop.create_future()

        def settle(result: NluModel | None, error: BaseException | None) -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                assert result is not None
                future.set_result(result)

        def run() -> None:
            try:
                model = _load()
            except BaseException as exc:
                with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits
                    loop.call_soon_threadsafe(settle, None, exc)
                return
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(settle, model, None)

        threading.Thread(target=run, name="nlu-load", daemon=True).start()
        return cls(future)

    @property
    def model(self) -> NluModel:
        if isinstance(self._model, asyncio.Future):
            return self._model.result()  # raises while it is still loading
        return self._model

    async def understand(self, text: str, now: datetime | None = None) -> Understanding:
        if isinstance(self._model, asyncio.Future):
            self._model = await self._model
            logger.info("nlu: model ready")
        parsed = self._model.parse(text, now)
        return Understanding(
            intent=parsed["intent"]["name"],
            confidence=parsed["intent"]["confidence"],
            ranking=tuple((r["name"], r["confidence"]) for r in parsed["intent_ranking"]),
            entities=tuple(parsed["entities"]),
        )
