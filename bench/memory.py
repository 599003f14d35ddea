"""What holds Leerloop's memory: RSS part by part, and `leerloop run` after many turns.

Run: .venv/bin/python -m bench.memory [--turns 1000] [--parts-only | --run-only]

- parts: one fresh interpreter loads the pieces of a server one after another (libraries,
  then our modules, the NLU model, the database with the seeded knowledge base, the course
  search index, the ESCO occupation index, a few turns) and prints the resident memory after
  each, so the difference is what that piece costs.
- run: `leerloop run` over the fake Bot API (SQLite) gets `--turns` turns from 10 users
  playing `bench.load.SCRIPT` (course searches, wallet, reflections with charts, buttons);
  prints its RSS right afterwards, 35 s later (the server returns freed pages every 30 s),
  and its peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
from pathlib import Path

SETTLE_SECONDS = 35

PARTS = r"""
import asyncio, gc, sys, tempfile, time
from pathlib import Path

def rss():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024

last = rss()
def step(name):
    global last
    gc.collect()
    now = rss()
    print(f"{name:<58} {now:7.1f} MiB  {now - last:+7.1f}", flush=True)
    last = now

step("python")
import numpy; step("numpy")
import telegram, telegram.ext, sqlalchemy, fastapi, uvicorn, aiohttp, apscheduler, pydantic
step("web, bot and database libraries")
import bot.runner, bot.cli, bot.telegram_channel, dialogues, actions, services, knowledge
step("our modules (bot, dialogues, actions, services, knowledge)")
print("  heavy modules loaded so far:",
      sorted(m for m in ("spacy", "sklearn", "scipy", "matplotlib", "rapidfuzz", "PIL")
             if m in sys.modules), flush=True)
import nlu._model; step("NLU code (spaCy, and what the classifier imports)")
print("  heavy modules loaded so far:",
      sorted(m for m in ("spacy", "sklearn", "scipy", "scipy.stats", "matplotlib")
             if m in sys.modules), flush=True)
import spacy
from nlu._model import MODEL_DIR, NluModel
nlp = spacy.load(MODEL_DIR / "spacy"); step("spaCy pipeline with its lemma table")
del nlp
model = NluModel.load(); step("rest of the NLU model (entity lookups, classifier)")
model.parse("ik zoek een cursus excel in Zwolle"); step("first parse")

from bot._interpreter import NluInterpreter
from bot import Services
from core.settings import Settings
from core.db import utcnow
interp = NluInterpreter(model)

async def main():
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None,
            DATABASE_URL=f"sqlite+aiosqlite:///{Path(tmp) / 'm.db'}",
            LEERLOOP_EXPORT_DIR=str(Path(tmp) / "exports"))
        services = await Services.start(settings, interpreter=interp)
        step("migrations, seeded knowledge base, flows and texts")
        from knowledge import course_index
        async with services.sessions() as session:
            await course_index(session, utcnow().date())
        step("course search index")
        from dialogues import IncomingMessage
        from core.models import Channel
        for text in ("/start", "ik werk als kok", "ik zoek een cursus excel in Zwolle",
                     "hoeveel geld heb ik nog?", "wat is stap?"):
            await services.dialogue.handle(IncomingMessage(Channel.CONSOLE, "m", text=text))
        step("five turns (ESCO occupations, places, wallet, regulations)")
        print("  heavy modules loaded now:",
              sorted(m for m in ("spacy", "sklearn", "scipy", "scipy.stats", "matplotlib",
                                 "rapidfuzz", "PIL") if m in sys.modules), flush=True)
        await services.close()

asyncio.run(main())
"""


def parts() -> None:
    subprocess.run(
        [sys.executable, "-c", PARTS],
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )


async def run_turns(turns: int) -> dict[str, float]:
    from bench.load import CountingFake, bot_process, calibrate, drive, rss_mib

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        fake = CountingFake()
        await fake.start()
        try:
            url = f"sqlite:///{workdir / 'run.db'}"
            async with bot_process("leerloop", fake, url, workdir, limits=False) as pid:
                started_rss, _ = rss_mib(pid)
                counts = await calibrate(fake, 1, echo=False, show=False)
                result = await drive(fake, counts, 10, turns, 1000, echo=False, think=0.0)
                rss, peak = rss_mib(pid)
                await asyncio.sleep(SETTLE_SECONDS)  # the server trims freed memory every 30 s
                settled, _ = rss_mib(pid)
        finally:
            await fake.stop()
    return {
        "turns": result.turns,
        "lost": result.lost,
        "rss_after_start_mib": round(started_rss),
        "rss_after_turns_mib": round(rss),
        f"rss_{SETTLE_SECONDS}s_later_mib": round(settled),
        "peak_rss_mib": round(peak),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=1000)
    parser.add_argument("--parts-only", action="store_true")
    parser.add_argument("--run-only", action="store_true")
    args = parser.parse_args()
    if not args.run_only:
        parts()
    if not args.parts_only:
        print(json.dumps(asyncio.run(run_turns(args.turns))))


if __name__ == "__main__":
    main()
