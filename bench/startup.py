"""Start-up and memory figures: `leerloop chat` start to first reply, peak RSS of `leerloop run`.

Run: .venv/bin/python -m bench.startup   (uses a fake Telegram Bot API on 127.0.0.1)
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support import FakeTelegram
from tests.support.processes import LeerloopProcess, clean_env, free_port, leerloop_executable


def chat_first_reply(workdir: Path) -> float:
    """Seconds from starting `leerloop chat` to the first reply line on stdout."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [leerloop_executable(), "chat", "--user", "bench"],
        cwd=workdir,
        env=clean_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("/start\n")
    proc.stdin.flush()
    for line in proc.stdout:
        if line.startswith("Leerloop:"):
            break
    elapsed = time.perf_counter() - started
    proc.stdin.close()
    proc.wait()
    return elapsed


async def run_peak_rss(workdir: Path, messages: int) -> tuple[int, float]:
    """Peak RSS (KiB) of `leerloop run` after `messages` chats over the fake Bot API."""
    fake = await FakeTelegram().start()
    env = clean_env(
        TELEGRAM_BOT_TOKEN=fake.token,
        TELEGRAM_API_BASE_URL=fake.base_url,
        DATABASE_URL=f"sqlite:///{workdir / 'run.db'}",
        HTTP_PORT=str(free_port()),
    )
    proc = await LeerloopProcess(workdir, env).start()
    started = time.perf_counter()
    for i in range(messages):
        fake.push_text(10_000 + i, "/start")
    await fake.wait_until(lambda: len(fake.sent) >= messages, timeout=120)
    elapsed = time.perf_counter() - started
    assert proc.proc is not None
    status = Path(f"/proc/{proc.proc.pid}/status").read_text()
    peak_kib = int(
        next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1]
    )
    await proc.stop()
    await fake.stop()
    return peak_kib, elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        chat_first_reply(workdir)  # first run creates and migrates the database
        times = [chat_first_reply(workdir) for _ in range(5)]
        print(
            f"leerloop chat: start to first reply, median of 5: {statistics.median(times):.2f} s "
            f"(min {min(times):.2f}, max {max(times):.2f}; first run incl. migration excluded)"
        )
    with tempfile.TemporaryDirectory() as tmp:
        messages = 200
        rss, elapsed = asyncio.run(run_peak_rss(Path(tmp), messages))
        print(
            f"leerloop run: peak RSS {rss / 1024:.0f} MiB after {messages} new users' /start "
            f"over the fake Bot API ({elapsed:.1f} s, rate-limited sending)"
        )


if __name__ == "__main__":
    main()
