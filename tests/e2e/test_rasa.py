"""A real Rasa 3.6.21 assistant on Leerloop, end to end (slow; needs `make rasa`).

Exports the project (`leerloop rasa export`), trains it (`rasa train`), starts Leerloop's HTTP
API (`leerloop run`: Rasa's NLU server) and action server (`leerloop rasa actions`) and Rasa
(`rasa run`), then talks Dutch to Rasa's REST channel as a user would.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from actions.formatting import euro
from core.db import create_engine, session_factory, upgrade, utcnow
from core.models import Channel, FundSource
from knowledge.models import Course
from services import get_or_create_user
from services.wallet import credit

ROOT = Path(__file__).resolve().parents[2]
RASA_VENV = Path(os.environ.get("RASA_VENV", ROOT / ".rasa-venv"))
RASA = RASA_VENV / "bin" / "rasa"
SENDER = "e2e-anna"
BALANCE_CENTS = 123_400
FUNDER = "Zorggroep Oost"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not RASA.exists(),
        reason=f"no Rasa 3.6 venv at {RASA_VENV}: `make rasa` installs it (CI does)",
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _report(capsys: pytest.CaptureFixture[str], line: str) -> None:
    """Timings go to the terminal (CI's log), not into pytest's captured output."""
    with capsys.disabled():
        print(f"\nrasa e2e: {line}")


def _wait(url: str, process: subprocess.Popen[bytes], log: Path, seconds: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if process.poll() is not None:
            pytest.fail(f"{url} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{url} did not come up in {seconds} s:\n{log.read_text()[-3000:]}")


class _Processes:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.running: list[subprocess.Popen[bytes]] = []

    def start(
        self, name: str, args: list[str], env: dict[str, str], cwd: Path
    ) -> tuple[subprocess.Popen[bytes], Path]:
        log = self.directory / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(  # noqa: S603 - our own commands
                args, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT
            )
        self.running.append(process)
        return process, log

    def stop(self) -> None:
        for process in reversed(self.running):
            process.terminate()
        for process in self.running:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[_Processes]:
    running = _Processes(tmp_path)
    yield running
    running.stop()


async def _seed(database_url: str) -> None:
    """Anna's wallet (she agreed to the privacy terms before)."""
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        async with session_factory(engine)() as session, session.begin():
            user = await get_or_create_user(
                session=session, channel=Channel.RASA, external_id=SENDER
            )
            user.consent = True
            await credit(
                session=session,
                user=user,
                amount_cents=BALANCE_CENTS,
                source=FundSource.EMPLOYER,
                funder=FUNDER,
                expires_on=utcnow().date() + timedelta(days=300),
            )
    finally:
        await engine.dispose()


async def _titles(database_url: str) -> list[str]:
    """The catalogue's course titles, as Leerloop seeded them."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            return list((await session.execute(select(Course.title))).scalars())
    finally:
        await engine.dispose()


def _say(rasa: str, text: str) -> list[dict[str, Any]]:
    response = httpx.post(
        f"{rasa}/webhooks/rest/webhook", json={"sender": SENDER, "message": text}, timeout=60
    )
    assert response.status_code == 200, response.text
    messages: list[dict[str, Any]] = response.json()
    assert messages, f"Rasa said nothing to {text!r}"
    return messages


def _text(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def test_a_rasa_assistant_runs_on_leerloop(
    tmp_path: Path, processes: _Processes, capsys: pytest.CaptureFixture[str]
) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'leerloop.db'}"
    api_port, actions_port, rasa_port = _free_port(), _free_port(), _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": str(api_port),
        "LEERLOOP_EXPORT_DIR": str(tmp_path / "exports"),
        "TELEGRAM_BOT_TOKEN": "",
        "RASA_TOKEN": "e2e-geheim",
    }
    leerloop = [sys.executable, "-m", "bot.cli"]

    # 1. Export the project from Leerloop's own data, and train it with Rasa.
    project = tmp_path / "project"
    subprocess.run(  # noqa: S603 - our own commands
        [
            *leerloop,
            "rasa",
            "export",
            str(project),
            "--nlu-url",
            f"http://127.0.0.1:{api_port}",
            "--action-url",
            f"http://127.0.0.1:{actions_port}/webhook",
        ],
        env=env,
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    assert "${RASA_TOKEN}" in (project / "endpoints.yml").read_text()
    rasa_env = {**env, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"}
    started = time.monotonic()
    trained = subprocess.run(  # noqa: S603 - Rasa from its venv
        [str(RASA), "train", "--fixed-model-name", "leerloop", "--out", "models"],
        env=rasa_env,
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert trained.returncode == 0, trained.stdout[-3000:] + trained.stderr[-3000:]
    _report(capsys, f"rasa train (rules; Leerloop parses): {time.monotonic() - started:.1f} s")

    # 2. Leerloop: its HTTP API (Rasa's NLU server), then its action server, on one database.
    asyncio.run(_seed(database_url))
    api, api_log = processes.start("leerloop-run", [*leerloop, "run"], env, tmp_path)
    _wait(f"http://127.0.0.1:{api_port}/healthz", api, api_log, 180)
    titles = asyncio.run(_titles(database_url))
    actions, actions_log = processes.start(
        "leerloop-actions",
        [*leerloop, "rasa", "actions", "--port", str(actions_port)],
        env,
        tmp_path,
    )
    _wait(f"http://127.0.0.1:{actions_port}/health", actions, actions_log, 180)

    # 3. Rasa, with its REST channel.
    rasa, rasa_log = processes.start(
        "rasa",
        [
            str(RASA),
            "run",
            "--enable-api",
            "--interface",
            "127.0.0.1",
            "--port",
            str(rasa_port),
            "--model",
            "models/leerloop.tar.gz",
            "--endpoints",
            "endpoints.yml",
            "--credentials",
            "credentials.yml",
        ],
        rasa_env,
        project,
    )
    up = _wait(f"http://127.0.0.1:{rasa_port}/", rasa, rasa_log, 300)
    _report(capsys, f"rasa run ready after {up:.1f} s")
    base = f"http://127.0.0.1:{rasa_port}"

    # Rasa's NLU is Leerloop's model: Rasa's own /model/parse answers with it.
    parsed = httpx.post(f"{base}/model/parse", json={"text": "hoeveel budget heb ik nog?"}).json()
    assert parsed["intent"]["name"] == "check_wallet"

    # The real balance from Leerloop's wallet, with buttons that work in Rasa.
    wallet = _say(base, "hoeveel budget heb ik nog?")
    assert euro(BALANCE_CENTS) in _text(wallet), _text(wallet)
    buttons = {b["title"]: b["payload"] for m in wallet for b in m.get("buttons") or []}
    history = next(p for p in buttons.values() if "history" in p)
    assert FUNDER in _text(_say(base, history))

    # A course search finds courses from the catalogue.
    courses = _text(_say(base, "ik zoek een cursus excel in Zwolle"))
    found = [title for title in titles if title in courses]
    assert found, courses
    assert "excel" in " ".join(found).casefold()

    # The regulation answer: STAP ended, with the source and the date it was checked.
    stap = _text(_say(base, "bestaat STAP nog?"))
    assert "STAP" in stap
    assert "bestaat niet meer" in stap
    assert "Gecontroleerd op" in stap

    # Leerloop's slots reached Rasa's tracker as slot events.
    tracker = httpx.get(
        f"{base}/conversations/{SENDER}/tracker", params={"token": "e2e-geheim"}
    ).json()
    assert tracker["slots"]["regulation_slug"] == "stap-budget"
    assert json.dumps(tracker["latest_message"]["intent"]) != "{}"
