"""Scale-out benchmark: N `leerloop run` processes on one PostgreSQL, a campaign to many people,
and people chatting with the bot while it runs.

Run: TEST_POSTGRES_URL=postgresql://... .venv/bin/python -m bench.scale \\
        [--recipients 3000] [--users 50] [--processes 1,3]

The fake Bot API runs in its own process and answers 429 above 30 broadcast messages a second
(replies to the people chatting are not counted: Telegram limits those per chat).
Reports per run: campaign rate (first to last message), duplicates, people
missed, the most broadcast messages in any one second, 429s, and the reply latency (p50/p95)
of `--users` people each sending /help in a loop while the campaign runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx

from bench.nudges import FIRST_CHAT, _populate, _serve_fake
from core.db import create_engine, session_factory
from tests.support.databases import migrated_postgres, postgres_url
from tests.support.processes import LeerloopProcess, clean_env, free_port

CHATTERS = 9_000_000


def _max_in_any_second(stamps: list[float]) -> int:
    stamps = sorted(stamps)
    best, start = 0, 0
    for end, stamp in enumerate(stamps):
        while stamp - stamps[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


async def _chatter(
    control: httpx.AsyncClient, chat: int, stop: asyncio.Event, latencies: list[float]
) -> None:
    """One person: /help, wait for the answer, a short pause, again."""

    while not stop.is_set():
        before = (await control.get("/_control/stats", params={"chat_id": chat})).json()["count"]
        started = time.perf_counter()
        await control.post("/_control/push", json={"chat_id": chat, "text": "/help"})
        await control.get(
            "/_control/wait",
            params={"chat_id": chat, "count": before + 1, "timeout": 20},
            timeout=30,
        )
        latencies.append(time.perf_counter() - started)
        await asyncio.sleep(0.5)


async def run(
    processes: int,
    recipients: int,
    users: int,
    fake_port: int,
    token: str,
    timeline: str | None = None,
) -> dict[str, Any]:
    server = postgres_url()
    assert server is not None, "set TEST_POSTGRES_URL"
    base = f"http://127.0.0.1:{fake_port}"
    async with migrated_postgres(server) as db_url, httpx.AsyncClient(base_url=base) as control:
        engine = create_engine(db_url)
        await _populate(SimpleNamespace(sessions=session_factory(engine)), recipients)  # type: ignore[arg-type]
        await engine.dispose()
        await control.post(
            "/_control/config",
            json={"max_per_second": 30, "flood_chats": [FIRST_CHAT, FIRST_CHAT + recipients]},
        )
        start_sent = len((await control.get("/_control/stats")).json()["sent"])
        env = clean_env(
            DATABASE_URL=db_url,
            TELEGRAM_BOT_TOKEN=token,
            TELEGRAM_API_BASE_URL=base,
            NUDGE_TICK_SECONDS="0.5",
            LEERLOOP_SEED_EXAMPLES="false",
            LOG_LEVEL="WARNING",
        )
        workdir = Path(tempfile.mkdtemp(prefix="leerloop-scale-"))
        procs = []
        for n in range(processes):
            cwd = workdir / f"p{n}"
            cwd.mkdir()
            procs.append(LeerloopProcess(cwd, env | {"HTTP_PORT": str(free_port())}))
        await asyncio.gather(*(p.start(timeout=180) for p in procs))
        stop = asyncio.Event()
        latencies: list[float] = []
        chatters = [
            asyncio.create_task(_chatter(control, CHATTERS + u, stop, latencies))
            for u in range(users)
        ]
        deadline = time.monotonic() + recipients / 20 + 120
        while time.monotonic() < deadline:
            sent = (await control.get("/_control/stats")).json()["sent"][start_sent:]
            if len({c for c, _ in sent if FIRST_CHAT <= c < FIRST_CHAT + recipients}) >= recipients:
                break
            await asyncio.sleep(1.0)
        stop.set()
        await asyncio.gather(*chatters)
        await asyncio.sleep(1.0)
        stats = (await control.get("/_control/stats")).json()
        await asyncio.gather(*(p.stop(timeout=60) for p in procs))
    sent = stats["sent"][start_sent:]
    campaign = [(c, at) for c, at in sent if FIRST_CHAT <= c < FIRST_CHAT + recipients]
    per_chat = Counter(c for c, _ in campaign)
    stamps = [at for _, at in campaign]
    if timeline:
        first = min(stamps, default=0.0)
        Path(timeline).write_text(
            json.dumps(
                {
                    "sent": [round(at - first, 4) for at in sorted(stamps)],
                    "answered_429": [round(at - first, 4) for at in stats["too_many_at"]],
                }
            )
        )
    steady = sorted(latencies[len(latencies) // 10 :])  # skip the first replies (warm-up)
    return {
        "processes": processes,
        "recipients": recipients,
        "delivered": len(per_chat),
        "duplicates": sum(per_chat.values()) - len(per_chat),
        "rate_per_second": round((len(stamps) - 1) / (max(stamps) - min(stamps)), 2)
        if len(stamps) > 1
        else 0.0,
        "max_in_any_second": _max_in_any_second(stamps),
        "answered_429": stats["too_many"],
        "chat_users": users,
        "chat_replies": len(latencies),
        "chat_p50_ms": round(statistics.median(steady) * 1000) if steady else None,
        "chat_p95_ms": round(steady[int(len(steady) * 0.95) - 1] * 1000) if steady else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=3000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--processes", default="1,3")
    parser.add_argument(
        "--timeline", help="write each run's send and 429 times to FILE.<processes>.json"
    )
    args = parser.parse_args()
    ports: Any = multiprocessing.Queue()
    fake = multiprocessing.Process(target=_serve_fake, args=(ports,), daemon=True)
    fake.start()
    port, token = ports.get(timeout=30)
    try:
        for count in (int(p) for p in args.processes.split(",")):
            timeline = f"{args.timeline}.{count}.json" if args.timeline else None
            result = asyncio.run(run(count, args.recipients, args.users, port, token, timeline))
            print(json.dumps(result), flush=True)
    finally:
        fake.terminate()


if __name__ == "__main__":
    main()
