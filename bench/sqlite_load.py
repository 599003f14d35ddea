"""SQLite under load: many chat users at once on the embedded default database, over the real
chat path (the dialogue manager with the trained NLU), while another "process" keeps changing
the catalogue (so the search index is rebuilt under load).

Run: .venv/bin/python -m bench.sqlite_load [--users 100] [--seconds 60] [--think 0.5]

Each user repeats a script of messages as people type them (start and consent, the balance,
a course search near a town, the reminders, a regulation, a reflection answer), waiting for the
reply and then `--think` seconds (0.5x-1.5x at random) before the next one. Every exception
and every log record that mentions "database is locked" is counted. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot import Services
from core.db import create_engine, session_factory
from core.models import Channel, Organisation, OrgKind
from core.settings import Settings
from dialogues import IncomingMessage
from knowledge import import_courses

SCRIPT = [
    "/start",
    "Ja, dat is goed",
    "Nee, liever niet",
    "hoeveel budget heb ik nog",
    "ik zoek een cursus lassen in de buurt van Zuidhorn",
    "Maakt niet uit",
    "Klaar",
    "wanneer vervalt mijn budget?",
    "/cursussen excel",
    "Online",
    "Klaar",
    "welke regelingen zijn er voor scholing",
    "Klaar",
    "/herinneringen",
    "Klaar",
    "ik werk als verzorgende in Zwijndrecht",
    "/reflectie",
    "ik werk als kok",
    "3",
    "gaat wel",
    "Stoppen",
]
LOCKED = "database is locked"


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    locked: int = 0
    catalogue_writes: int = 0

    def error(self, exc: BaseException) -> None:
        name = type(exc).__name__
        self.errors[name] = self.errors.get(name, 0) + 1
        if LOCKED in str(exc):
            self.locked += 1


class _LockedLogs(logging.Handler):
    """Counts log records that report a locked database (with or without a traceback)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage() + (str(record.exc_info[1]) if record.exc_info else "")
        if LOCKED in text:
            self.count += 1


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


async def _user(services: Services, n: int, until: float, think: float, tally: Tally) -> None:
    rng = random.Random(n)
    buttons: dict[str, str] = {}
    step = 0
    while time.monotonic() < until:
        line = SCRIPT[step % len(SCRIPT)]
        step += 1
        payload = buttons.get(line)
        message = IncomingMessage(
            Channel.TELEGRAM,
            f"load-{n}",
            text=None if payload else line,
            payload=payload,
            display_name=f"Gebruiker {n}",
        )
        started = time.perf_counter()
        try:
            replies = await services.dialogue.handle(message)
        except Exception as exc:  # counted, and the user goes on as a person would
            tally.error(exc)
            replies = []
        else:
            tally.latencies_ms.append((time.perf_counter() - started) * 1000)
        with_buttons = [r for r in replies if r.buttons]
        buttons = {b.label: b.payload for b in with_buttons[-1].buttons} if with_buttons else {}
        await asyncio.sleep(think * rng.uniform(0.5, 1.5))


async def _catalogue_writer(url: str, until: float, tally: Tally) -> None:
    """Another process (the CLI, an institution's import) changes a course every few seconds."""
    engine = create_engine(url)  # its own engine and connection, as another process has
    sessions = session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            org = Organisation(name="ROC Belasting", kind=OrgKind.INSTITUTION, token_hash="1" * 64)
            session.add(org)
        version = 0
        while time.monotonic() < until:
            version += 1
            row = {
                "course_id": "load-1",
                "title": f"Lassen voor beginners (versie {version})",
                "format": "klassikaal",
                "location": "Zuidhorn",
                "topics": ["lassen"],
                "price_cents": 49_500,
                "start_dates": ["2027-02-01"],
            }
            try:
                async with sessions() as session, session.begin():
                    await import_courses(session=session, provider=org, rows=[row], source="load")
                tally.catalogue_writes += 1
            except Exception as exc:
                tally.error(exc)
            await asyncio.sleep(3)
    finally:
        await engine.dispose()


async def run(users: int, seconds: float, think: float) -> dict[str, Any]:
    locked_logs = _LockedLogs()
    logging.getLogger().addHandler(locked_logs)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'load.db'}"
        settings = Settings(
            _env_file=None, DATABASE_URL=url, LEERLOOP_EXPORT_DIR=str(Path(tmp) / "exports")
        )
        services = await Services.start(settings, warm_up=True)
        await services.dialogue.handle(  # the NLU is loaded before the clock starts
            IncomingMessage(Channel.TELEGRAM, "warm-up", text="hallo")
        )
        tally = Tally()
        started = time.monotonic()
        until = started + seconds
        await asyncio.gather(
            _catalogue_writer(url, until, tally),
            *(_user(services, n, until, think, tally) for n in range(users)),
        )
        elapsed = time.monotonic() - started
        await services.close()
    logging.getLogger().removeHandler(locked_logs)
    lat = tally.latencies_ms
    return {
        "users": users,
        "seconds": round(elapsed, 1),
        "think_seconds": think,
        "turns": len(lat),
        "turns_per_second": round(len(lat) / elapsed, 1),
        "reply_ms": {
            "p50": round(_percentile(lat, 50), 1),
            "p95": round(_percentile(lat, 95), 1),
            "p99": round(_percentile(lat, 99), 1),
            "max": round(max(lat, default=0.0), 1),
        },
        "catalogue_writes": tally.catalogue_writes,
        "errors": tally.errors,
        "database_locked": tally.locked + locked_logs.count,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--think", type=float, default=0.5, help="seconds between messages")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(json.dumps(asyncio.run(run(args.users, args.seconds, args.think)), indent=1))


if __name__ == "__main__":
    main()
