"""Start the real `leerloop` command in a subprocess for end-to-end tests."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx


def leerloop_executable() -> str:
    beside = Path(sys.executable).parent / "leerloop"
    if beside.exists():
        return str(beside)
    found = shutil.which("leerloop")
    assert found, "the leerloop command is not installed (make install)"
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without Leerloop settings, plus `extra`."""
    names = ("TELEGRAM_", "DATABASE_URL", "HTTP_", "LEERLOOP_", "TEST_POSTGRES")
    env = {k: v for k, v in os.environ.items() if not k.startswith(names)}
    env.update(extra)
    return env


class LeerloopProcess:
    """`leerloop run` as a child process, stopped with SIGTERM like a service manager would."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd = cwd
        self.env = env
        self.port = int(env["HTTP_PORT"])
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = cwd / "leerloop.log"

    async def start(self, timeout: float = 90.0) -> LeerloopProcess:
        """Start and wait for /healthz without blocking the loop (the fake Bot API runs in it)."""
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(  # noqa: S603
                [leerloop_executable(), "run"],
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with httpx.AsyncClient() as client:
            while loop.time() < deadline:
                if self.proc.poll() is not None:
                    raise AssertionError(f"leerloop run exited: {self.log.read_text()}")
                try:
                    response = await client.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1)
                    if response.status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"leerloop run did not become healthy: {self.log.read_text()}")

    async def readiness(self, timeout: float = 90.0) -> list[str]:
        """Poll /readyz until it says ready; the states seen, in order, without repeats."""
        seen: list[str] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with httpx.AsyncClient() as client:
            while loop.time() < deadline:
                response = await client.get(f"http://127.0.0.1:{self.port}/readyz", timeout=2)
                state = str(response.json()["status"])
                assert (response.status_code == 200) == (state == "ready"), response.text
                if not seen or seen[-1] != state:
                    seen.append(state)
                if state == "ready":
                    return seen
                await asyncio.sleep(0.05)
        raise AssertionError(f"never ready: {seen}")

    async def kill(self) -> int:
        """SIGKILL: the process dies at once, as on a power cut or an OOM kill."""
        assert self.proc is not None
        self.proc.kill()
        return await asyncio.to_thread(self.proc.wait)

    async def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, then wait (in a thread, so the loop keeps serving the fake Bot API)."""
        assert self.proc is not None
        proc = self.proc
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(proc.wait, timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                await asyncio.to_thread(proc.wait)
        return proc.returncode
