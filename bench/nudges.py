"""Campaign delivery benchmark against the fake Telegram Bot API on 127.0.0.1.

Run: .venv/bin/python -m bench.nudges [--recipients 10000] [--phase default|lifted|both]

- default: Telegram's limits as configured (30 messages/s overall, 1/s per chat). The fake
  server answers 429 when more than 30 messages arrive within one second, like Telegram's flood
  control. Reports the sustained send rate, 429s, and the reply latency of a person chatting
  with the bot (every 0.5 s) while the campaign runs.
- lifted: limits switched off (TELEGRAM_MAX_PER_SECOND=0) on loopback: raw throughput.
Leerloop's side runs as in production: the real Telegram channel (python-telegram-bot,
polling), the delivery engine, SQLite. The fake Bot API (the aiohttp app from tests/support)
runs in its own process, as Telegram would be another machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select

from bot import Services
from bot.nudge_delivery import NudgeDelivery
from bot.telegram_channel import TelegramChannel
from core.db import utcnow
from core.models import (
    Campaign,
    Channel,
    NudgePreference,
    Organisation,
    OrgKind,
    Team,
    TeamMember,
    TeamRole,
    User,
)
from core.settings import Settings
from tests.support import FakeTelegram

FIRST_CHAT = 10_000_000
CHATTER = 4242


async def _populate(services: Services, recipients: int) -> None:
    async with services.sessions() as session, session.begin():
        employer = Organisation(name="Bench", kind=OrgKind.EMPLOYER, token_hash="1" * 64)
        session.add(employer)
        await session.flush()
        team = Team(employer_id=employer.id, name="Bench", invite_code="bi", manager_code="bm")
        session.add(team)
        await session.flush()
        now = utcnow()
        await session.execute(
            insert(User),
            [
                {
                    "channel": Channel.TELEGRAM,
                    "external_id": str(FIRST_CHAT + n),
                    "consent": True,
                    "role": "worker",
                    "blocked": False,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(recipients)
            ],
        )
        ids = (
            await session.scalars(select(User.id).where(User.external_id >= str(FIRST_CHAT)))
        ).all()
        await session.execute(
            insert(TeamMember),
            [
                {
                    "team_id": team.id,
                    "user_id": user_id,
                    "role": TeamRole.MEMBER,
                    "share_progress": False,
                    "joined_at": now,
                }
                for user_id in ids
            ],
        )
        # No quiet hours, so the benchmark does not depend on the time of day.
        await session.execute(
            insert(NudgePreference),
            [
                {
                    "user_id": user_id,
                    "every_days": 0,
                    "weekday": 0,
                    "at_minute": 540,
                    "quiet_start": 0,
                    "quiet_end": 0,
                    "stopped": False,
                    "updated_at": now,
                }
                for user_id in ids
            ],
        )
        session.add(
            Campaign(
                team_id=team.id, text="Bench!", send_at=now - timedelta(seconds=1), queued=False
            )
        )


def _serve_fake(ports: Any) -> None:
    async def serve() -> None:
        fake = await FakeTelegram(max_poll_seconds=0.2).start()
        ports.put((fake.port, fake.token))
        await asyncio.Event().wait()

    asyncio.run(serve())


async def _chatter(control: httpx.AsyncClient, stop: asyncio.Event, latencies: list[float]) -> None:
    """A person chatting during the campaign: /help every 0.5 s; time until the reply."""

    async def count() -> int:
        response = await control.get("/_control/stats", params={"chat_id": CHATTER})
        return int(response.json()["count"])

    while not stop.is_set():
        before = await count()
        started = time.perf_counter()
        await control.post("/_control/push", json={"chat_id": CHATTER, "text": "/help"})
        while await count() <= before and time.perf_counter() - started < 10:
            await asyncio.sleep(0.005)
        latencies.append(time.perf_counter() - started)
        await asyncio.sleep(0.5)


async def run_phase(recipients: int, *, limits: bool) -> dict[str, Any]:
    ports: Any = multiprocessing.get_context("spawn").Queue()
    server = multiprocessing.get_context("spawn").Process(target=_serve_fake, args=(ports,))
    server.start()
    port, token = ports.get(timeout=30)
    base_url = f"http://127.0.0.1:{port}"
    control = httpx.AsyncClient(base_url=base_url)
    await control.post("/_control/config", json={"max_per_second": 30 if limits else None})
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env: dict[str, Any] = {
                "_env_file": None,
                "TELEGRAM_BOT_TOKEN": token,
                "TELEGRAM_API_BASE_URL": base_url,
                "DATABASE_URL": f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
                "LEERLOOP_SEED_EXAMPLES": "false",
            }
            if not limits:
                env |= {"TELEGRAM_MAX_PER_SECOND": 0, "TELEGRAM_CHAT_INTERVAL": 0}
            settings = Settings(**env)
            services = await Services.start(settings, interpreter=None)
            await _populate(services, recipients)
            channel = TelegramChannel(services)
            await channel.start()
            delivery = NudgeDelivery(services, channel.app.bot)
            stop = asyncio.Event()
            latencies: list[float] = []
            chatter = asyncio.create_task(_chatter(control, stop, latencies)) if limits else None
            started = time.perf_counter()
            while delivery.sent < recipients:
                await delivery.tick()
                if delivery.sent < recipients:
                    await asyncio.sleep(0.2)
            elapsed = time.perf_counter() - started
            stop.set()
            if chatter is not None:
                await chatter
            await channel.stop()
            await services.close()
        stats = (await control.get("/_control/stats")).json()
    finally:
        await control.aclose()
        server.terminate()
        server.join()
    campaign = sorted(at for chat, at in stats["sent"] if chat >= FIRST_CHAT)
    chats = [chat for chat, _ in stats["sent"] if chat >= FIRST_CHAT]
    # Sustained rate: between the 10th and the last campaign message (after the start-up
    # burst), counting every message the bot sent in that time (replies share the limit).
    steady = campaign[10:]
    everything = [at for _, at in stats["sent"] if steady[0] <= at <= steady[-1]]
    result: dict[str, Any] = {
        "recipients": recipients,
        "limits": "telegram defaults (30/s)" if limits else "lifted",
        "delivered": len(campaign),
        "duplicates": len(chats) - len(set(chats)),
        "seconds": round(elapsed, 1),
        "campaign_per_second": round((len(steady) - 1) / (steady[-1] - steady[0]), 1),
        "all_messages_per_second": round((len(everything) - 1) / (steady[-1] - steady[0]), 1),
        "http_429": stats["too_many"],
    }
    if latencies:
        ordered = sorted(latencies)
        result["chat_replies"] = len(latencies)
        result["reply_ms_p50"] = round(statistics.median(ordered) * 1000)
        result["reply_ms_p95"] = round(ordered[int(0.95 * (len(ordered) - 1))] * 1000)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--phase", choices=["default", "lifted", "both"], default="both")
    args = parser.parse_args()
    phases = {"default": [True], "lifted": [False], "both": [True, False]}[args.phase]
    for limits in phases:
        print(json.dumps(asyncio.run(run_phase(args.recipients, limits=limits))), flush=True)


if __name__ == "__main__":
    main()
