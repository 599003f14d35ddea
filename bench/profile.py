"""Where one turn spends its time: cProfile of the dialogue manager per kind of message.

Run: .venv/bin/python -m bench.profile [--people 20] [--top 25] [--kind button]

In-process (no Telegram, no HTTP): the real dialogue manager with the real NLU on a seeded
SQLite database, `bench.load.SCRIPT` played by `--people` new users after one warm-up user.
Prints per kind the mean time of a turn and the functions with the most own time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench.load import SCRIPT
from bot import Services
from bot._interpreter import NluInterpreter
from core.models import Channel
from core.settings import Settings
from dialogues import IncomingMessage, Reply

# Which kind each step of the script is.
KINDS: dict[str, str] = {
    "/start": "command",
    "/reflectie": "reflection",
    "ik werk als kok": "reflection",
    "mijn eigen recepten": "reflection",
    "de drukte": "reflection",
    "ik zoek een cursus excel": "course search",
    "/cursussen vca": "course search",
    "Online": "course search",
    "Maakt niet uit": "course search",
    "hoeveel geld heb ik nog?": "wallet",
    "wat is het levenlanglerenkrediet?": "free text",
    "bedankt!": "free text",
}


def kind_of(step: tuple[str, str]) -> str:
    return KINDS.get(step[1], "button" if step[0] == "tap" else "free text")


async def _play(
    services: Services, user: str, profiles: dict[str, cProfile.Profile] | None
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = defaultdict(list)
    buttons: dict[str, str] = {}
    for step in SCRIPT:
        kind, what = step
        payload = buttons.get(what) if kind == "tap" else None
        message = IncomingMessage(
            Channel.TELEGRAM,
            user,
            text=None if payload else what,
            payload=payload,
            display_name="Anna",
        )
        profile = profiles[kind_of(step)] if profiles is not None else None
        started = time.perf_counter()
        if profile is not None:
            profile.enable()
        replies: list[Reply] = await services.dialogue.handle(message)
        if profile is not None:
            profile.disable()
        times[kind_of(step)].append(time.perf_counter() - started)
        with_buttons = [r for r in replies if r.buttons]
        if with_buttons:
            buttons = {b.label: b.payload for b in with_buttons[-1].buttons}
    return times


async def run(people: int, top: int, only: str | None, sort: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            _env_file=None,
            DATABASE_URL=f"sqlite+aiosqlite:///{Path(tmp) / 'profile.db'}",
            LEERLOOP_EXPORT_DIR=str(Path(tmp) / "exports"),
        )
        services = await Services.start(settings, interpreter=NluInterpreter.load())
        await _play(services, "warm-up", None)
        profiles: dict[str, cProfile.Profile] = defaultdict(cProfile.Profile)
        times: dict[str, list[float]] = defaultdict(list)
        for n in range(people):
            for kind, values in (await _play(services, f"p{n}", profiles)).items():
                times[kind].extend(values)
        await services.close()
    for kind, values in sorted(times.items()):
        mean = sum(values) / len(values) * 1000
        print(f"== {kind}: {len(values)} turns, mean {mean:.1f} ms per turn")
        if only is not None and kind != only:
            continue
        out = io.StringIO()
        stats = pstats.Stats(profiles[kind], stream=out)
        stats.sort_stats(sort).print_stats(top)
        print("\n".join(out.getvalue().splitlines()[6:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--kind", default=None, help="only print the profile of this kind")
    parser.add_argument("--cumulative", action="store_true")
    args = parser.parse_args()
    asyncio.run(
        run(args.people, args.top, args.kind, "cumulative" if args.cumulative else "tottime")
    )


if __name__ == "__main__":
    main()
