"""Loading the NLU in the background never holds up a process that wants to stop."""

from __future__ import annotations

import asyncio
import threading

import pytest

import bot._interpreter as interpreter_module
from bot._interpreter import NluInterpreter


def test_a_process_stops_while_the_model_is_still_loading(
    monkeypatch: pytest.MonkeyPatch, interpreter: NluInterpreter
) -> None:
    # Loading takes seconds on a quiet machine and much longer on a busy one; here it lasts
    # until the test lets it finish. A `leerloop run` stopped right after start-up is the case.
    release = threading.Event()

    def slow_load() -> object:
        release.wait(30)
        return interpreter.model

    monkeypatch.setattr(interpreter_module, "_load", slow_load)

    async def start_and_stop() -> None:
        NluInterpreter.in_background()
        await asyncio.sleep(0)

    runner = threading.Thread(target=asyncio.run, args=(start_and_stop(),))
    runner.start()
    runner.join(timeout=5)
    stopped = not runner.is_alive()
    release.set()
    runner.join()
    assert stopped, "asyncio.run waited for the model to finish loading"


async def test_the_first_parse_waits_for_the_model(
    monkeypatch: pytest.MonkeyPatch, interpreter: NluInterpreter
) -> None:
    release = threading.Event()

    def slow_load() -> object:
        release.wait(30)
        return interpreter.model

    monkeypatch.setattr(interpreter_module, "_load", slow_load)
    loading = NluInterpreter.in_background()
    with pytest.raises(asyncio.InvalidStateError):
        _ = loading.model  # not there yet
    parse = asyncio.create_task(loading.understand("hoeveel budget heb ik nog?"))
    await asyncio.sleep(0.05)
    assert not parse.done()
    release.set()
    understood = await asyncio.wait_for(parse, 10)
    assert understood.intent == (await interpreter.understand("hoeveel budget heb ik nog?")).intent


async def test_a_failed_load_reaches_the_first_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_load() -> object:
        raise OSError("model files missing")

    monkeypatch.setattr(interpreter_module, "_load", broken_load)
    with pytest.raises(OSError, match="model files missing"):
        await NluInterpreter.in_background().understand("hallo")
