"""Reply latency under load: `leerloop run` beside a bare PTB echo bot, over the fake Bot API.

Run: .venv/bin/python -m bench.load [--users 1 10 50 100] [--db sqlite postgresql]
         [--bots leerloop echo] [--limits on|off] [--turns 300]

Each simulated user works through one conversation (`SCRIPT`: /start and consent, a course
search typed and tapped, a wallet question, a reflection with button answers, a typed question
about a regulation) and, when it is done, starts again as a new person. A user sends the next
message `--think` seconds (on average; uniformly 0.5-1.5x, so users do not move in lockstep)
after every reply to the previous one has arrived (how many there are is learned from one quiet
run first) or after `TIMEOUT` seconds; replies that never came are counted as lost. With
`--think 0` the users keep the bot as busy as they can (then latency is queueing: users /
throughput).

Both bots run as their own process (Leerloop as `leerloop run`, polling, with Telegram's limits
as configured unless `--limits off`); the fake Bot API and the users share this process, on
loopback. Reply latency is from the moment an update is available to getUpdates until the fake
receives the first sendMessage for it; turns/s counts completed turns over the wall time.
PostgreSQL runs need TEST_POSTGRES_URL (a throw-away database is made and dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support import FakeTelegram, SentMessage
from tests.support.databases import migrated_postgres, migrated_sqlite, postgres_url
from tests.support.processes import LeerloopProcess, clean_env, free_port

TIMEOUT = 10.0  # seconds a user waits for a reply before counting it as lost

# (kind, what): "text" is typed, "tap" presses the button with that label in the last message
# that had buttons.
SCRIPT: list[tuple[str, str]] = [
    ("text", "/start"),
    ("tap", "Ja, dat is goed"),
    ("tap", "Ja, op maandagochtend"),
    ("text", "ik zoek een cursus excel"),
    ("tap", "Online"),
    ("tap", "Klaar"),
    ("text", "hoeveel geld heb ik nog?"),
    ("tap", "Klaar"),
    ("text", "/reflectie"),
    ("text", "ik werk als kok"),
    ("tap", "3 – goed"),
    ("tap", "4 – heel goed"),
    ("tap", "2 – een beetje"),
    ("tap", "3 – goed"),
    ("tap", "2 – een beetje"),
    ("tap", "3 – goed"),
    ("text", "mijn eigen recepten"),
    ("text", "de drukte"),
    ("tap", "Klaar"),
    ("text", "wat is het levenlanglerenkrediet?"),
    ("text", "/cursussen vca"),
    ("tap", "Maakt niet uit"),
    ("tap", "Klaar"),
    ("text", "bedankt!"),
]


class CountingFake(FakeTelegram):
    """The fake Bot API, not keeping every call (the benchmark reads only `by_chat`)."""

    def __init__(self) -> None:
        super().__init__(max_poll_seconds=0.5)
        self.pushed_at: dict[int, float] = {}
        self.keep_calls = False

    def _record(self, message: SentMessage) -> None:
        super()._record(message)
        if not self.keep_calls:
            self.calls.clear()  # unbounded otherwise; the benchmark does not read it


@dataclass
class Result:
    first_reply: list[float] = field(default_factory=list)  # seconds, per turn
    whole_turn: list[float] = field(default_factory=list)
    turns: int = 0
    lost: int = 0
    unknown_buttons: int = 0
    elapsed: float = 0.0


def _push(fake: CountingFake, chat_id: int, kind: str, what: str, echo: bool) -> bool:
    """Send one step; False when the button is not there (then the label is typed)."""
    if kind == "tap" and not echo:
        with_buttons = [m for m in fake.by_chat[chat_id] if m.buttons]
        if with_buttons and what in dict(with_buttons[-1].buttons):
            fake.push_button(with_buttons[-1], what)
            return True
        fake.push_text(chat_id, what)
        return False
    fake.push_text(chat_id, what)
    return True


async def calibrate(fake: CountingFake, chat_id: int, *, echo: bool, show: bool) -> list[int]:
    """How many replies each step gets: one user, waiting for quiet after every step."""
    counts: list[int] = []
    for kind, what in SCRIPT:
        before = len(fake.by_chat[chat_id])
        ok = _push(fake, chat_id, kind, what, echo)
        await fake.wait_count(chat_id, before + 1, time.monotonic() + 30)
        while True:  # quiet for 0.7 s: no more replies to this step
            seen = len(fake.by_chat[chat_id])
            await asyncio.sleep(0.7)
            if len(fake.by_chat[chat_id]) == seen:
                break
        new = fake.by_chat[chat_id][before:]
        counts.append(len(new))
        if show:
            print(f"> {kind} {what}{'' if ok else '   (BUTTON NOT FOUND)'}")
            for m in new:
                print("   ", (m.text or "").replace("\n", " / ")[:150], [b for b, _ in m.buttons])
    return counts


async def drive(
    fake: CountingFake,
    counts: list[int],
    users: int,
    turns: int,
    first_chat: int,
    *,
    echo: bool,
    think: float,
) -> Result:
    """`users` concurrent users, each repeating the script as new people, `turns` in total."""
    result = Result()
    rounds = max(1, math.ceil(turns / (users * len(SCRIPT))))

    async def user(index: int) -> None:
        randomly = random.Random(index)
        await asyncio.sleep(randomly.uniform(0, think))
        for round_ in range(rounds):
            chat_id = first_chat + round_ * users + index
            total = 0
            for (kind, what), count in zip(SCRIPT, counts, strict=True):
                before = len(fake.by_chat[chat_id])
                pushed = time.monotonic()
                if not _push(fake, chat_id, kind, what, echo):
                    result.unknown_buttons += 1
                total = before + count
                deadline = pushed + TIMEOUT
                if await fake.wait_count(chat_id, before + 1, deadline):
                    result.first_reply.append(fake.by_chat[chat_id][before].at - pushed)
                    if await fake.wait_count(chat_id, total, deadline):
                        result.whole_turn.append(fake.by_chat[chat_id][total - 1].at - pushed)
                        result.turns += 1
                result.lost += max(0, total - len(fake.by_chat[chat_id]))
                if think:
                    await asyncio.sleep(randomly.uniform(0.5 * think, 1.5 * think))

    started = time.monotonic()
    await asyncio.gather(*(user(i) for i in range(users)))
    result.elapsed = time.monotonic() - started
    return result


def _pct(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


@contextlib.asynccontextmanager
async def database(kind: str, workdir: Path) -> AsyncIterator[str]:
    if kind == "sqlite":
        async with migrated_sqlite(workdir) as url:
            yield url.replace("sqlite+aiosqlite", "sqlite")
    else:
        server = postgres_url()
        if server is None:
            raise SystemExit("TEST_POSTGRES_URL is not set")
        async with migrated_postgres(server) as url:
            yield url


@contextlib.asynccontextmanager
async def bot_process(
    bot: str, fake: CountingFake, db_url: str, workdir: Path, limits: bool
) -> AsyncIterator[int]:
    """Start the bot; yields its pid."""
    env = clean_env(
        TELEGRAM_BOT_TOKEN=fake.token,
        TELEGRAM_API_BASE_URL=fake.base_url,
        DATABASE_URL=db_url,
        HTTP_PORT=str(free_port()),
        LOG_LEVEL="WARNING",
    )
    if not limits:
        env |= {"TELEGRAM_MAX_PER_SECOND": "0", "TELEGRAM_CHAT_INTERVAL": "0"}
    if bot == "leerloop":
        proc = await LeerloopProcess(workdir, env).start()
        assert proc.proc is not None
        try:
            yield proc.proc.pid
        finally:
            await proc.stop()
        return
    echo = subprocess.Popen(
        [sys.executable, "-m", "bench.echo_bot"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield echo.pid
    finally:
        echo.terminate()
        await asyncio.to_thread(echo.wait)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process in MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for db in args.db:
        for bot in args.bots:
            echo = bot == "echo"
            with tempfile.TemporaryDirectory() as tmp:
                workdir = Path(tmp)
                fake = CountingFake()
                await fake.start()
                try:
                    async with (
                        database(db, workdir) as url,
                        bot_process(bot, fake, url, workdir, args.limits == "on") as pid,
                    ):
                        counts = await calibrate(fake, 1, echo=echo, show=args.show)
                        first_chat = 1000
                        for users in args.users:
                            load = os.getloadavg()[0]
                            cpu_before = cpu_seconds(pid)
                            result = await drive(
                                fake,
                                counts,
                                users,
                                args.turns,
                                first_chat,
                                echo=echo,
                                think=args.think,
                            )
                            first_chat += 100_000
                            cpu = cpu_seconds(pid) - cpu_before
                            rss, peak = rss_mib(pid)
                            row = {
                                "bot": bot,
                                "db": db,
                                "users": users,
                                "limits": args.limits,
                                "think_s": args.think,
                                "turns": result.turns,
                                "reply_p50_ms": round(_pct(result.first_reply, 0.5), 1),
                                "reply_p95_ms": round(_pct(result.first_reply, 0.95), 1),
                                "reply_p99_ms": round(_pct(result.first_reply, 0.99), 1),
                                "turn_p95_ms": round(_pct(result.whole_turn, 0.95), 1),
                                "turns_per_s": round(result.turns / result.elapsed, 1),
                                "lost": result.lost,
                                "cpu_ms_per_turn": round(cpu / max(result.turns, 1) * 1000, 1),
                                "unknown_buttons": result.unknown_buttons,
                                "rss_mib": round(rss),
                                "peak_rss_mib": round(peak),
                                "load_1min": round(load, 2),
                            }
                            rows.append(row)
                            print(json.dumps(row), flush=True)
                finally:
                    await fake.stop()
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| db | users | Leerloop reply p50 / p95 / p99 ms | turns/s | lost | CPU ms/turn | "
        "echo p50 / p95 ms | echo turns/s | echo CPU ms/turn | load |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    echo = {(r["db"], r["users"]): r for r in rows if r["bot"] == "echo"}
    for r in rows:
        if r["bot"] != "leerloop":
            continue
        e = echo.get((r["db"], r["users"]))
        floor = f"{e['reply_p50_ms']} / {e['reply_p95_ms']}" if e else "—"
        lines.append(
            f"| {r['db']} | {r['users']} | {r['reply_p50_ms']} / {r['reply_p95_ms']} / "
            f"{r['reply_p99_ms']} | {r['turns_per_s']} | {r['lost']} | {r['cpu_ms_per_turn']} | "
            f"{floor} | {e['turns_per_s'] if e else '—'} | {e['cpu_ms_per_turn'] if e else '—'} | "
            f"{r['load_1min']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[1, 10, 50, 100])
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--bots", nargs="+", default=["echo", "leerloop"])
    parser.add_argument("--limits", choices=["on", "off"], default="on")
    parser.add_argument("--turns", type=int, default=48, help="at least this many per level")
    parser.add_argument("--think", type=float, default=0.5, help="seconds between turns")
    parser.add_argument("--show", action="store_true", help="print the calibration dialogue")
    args = parser.parse_args()
    rows = asyncio.run(run(args))
    print(table(rows))


if __name__ == "__main__":
    main()
