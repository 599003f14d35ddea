"""Charts: generation time (p50/p95 of the reflection and wallet charts) and what drawing the
first chart costs a process (import time, resident memory), for matplotlib (Agg, imported
lazily as the bot does) and, where installed, the alternatives measured against it.

    .venv/bin/python -m bench.charts [--runs 200]

Each library is measured in a fresh process, after `import numpy` (the NLU has numpy loaded in
every `leerloop run`), so the memory figure is what a chart adds to a running bot.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

TARGET_P95_MS = 200.0

_PROBE = r"""
import json, sys, time, io
def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
import numpy  # noqa: F401  (already in every leerloop run)
import actions  # noqa: F401  (so is the rest of the bot: only the chart's own cost counts)
runs = int(sys.argv[2])
base = rss_mb()
t0 = time.perf_counter()
kind = sys.argv[1]
if kind == "matplotlib":
    from actions.charts import MoneyBar, MoneyChartTexts, SkillBar, SkillChartTexts
    from actions.charts import money_chart, skills_chart
    skills = [SkillBar(f"Vaardigheden en competenties voor groep {n}", n % 4 + 1, (n + 1) % 4 + 1)
              for n in range(6)]
    texts = SkillChartTexts("Zo schat je jezelf in", "nu", "vorige keer (3 maart 2026)",
                            ("nog niet", "een beetje", "goed", "heel goed"))
    money = [MoneyBar("13 april 2026", 50000, "Werkgever", True),
             MoneyBar("2 juli 2026", 12000, "O&O-fonds"),
             MoneyBar("20 september 2026", 30000, "Werkgever"),
             MoneyBar("geen einddatum", 10000, "eigen geld")]
    mtexts = MoneyChartTexts("Je leerbudget: wanneer vervalt wat?", "bedrag in euro",
                             "vervalt binnen 2 maanden")
    draw = [lambda: skills_chart(skills, texts), lambda: money_chart(money, mtexts)]
elif kind == "pillow":
    from PIL import Image, ImageDraw, ImageFont
    def bars():
        img = Image.new("RGB", (704, 520), "white")
        d = ImageDraw.Draw(img)
        font = ImageFont.load_default(size=14)
        d.text((10, 10), "Zo schat je jezelf in", fill="black", font=font)
        for n in range(6):
            y = 50 + n * 70
            d.text((10, y), f"Vaardigheden groep {n}", fill="black", font=font)
            d.rectangle((260, y, 260 + 100 * (n % 4 + 1), y + 24), fill="#0072B2")
            d.rectangle((260, y + 28, 260 + 100 * ((n + 1) % 4 + 1), y + 52), fill="#B8B8B8")
        out = io.BytesIO(); img.save(out, format="PNG"); return out.getvalue()
    draw = [bars, bars]
elif kind == "pygal":
    import pygal
    def bars():
        chart = pygal.HorizontalBar(width=704, height=520)
        chart.title = "Zo schat je jezelf in"
        chart.x_labels = [f"Vaardigheden groep {n}" for n in range(6)]
        chart.add("nu", [n % 4 + 1 for n in range(6)])
        chart.add("vorige keer", [(n + 1) % 4 + 1 for n in range(6)])
        return chart.render_to_png()
    draw = [bars, bars]
else:
    raise SystemExit(f"unknown {kind}")
first = draw[0]()
t1 = time.perf_counter()
after_first = rss_mb()
times = {0: [], 1: []}
cpu = {0: [], 1: []}
for i in range(runs):
    for which, fn in enumerate(draw):
        s, c = time.perf_counter(), time.process_time()
        png = fn()
        times[which].append((time.perf_counter() - s) * 1000)
        cpu[which].append((time.process_time() - c) * 1000)
        assert png[:4] == b"\x89PNG"
print(json.dumps({"first_chart_s": t1 - t0, "rss_before_mb": base,
                  "rss_after_first_mb": after_first, "rss_after_runs_mb": rss_mb(),
                  "times": times, "cpu": cpu, "png_bytes": len(first)}))
"""


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(kind: str, runs: int) -> dict[str, object] | None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, kind, str(runs)], capture_output=True, text=True
    )
    if done.returncode != 0:
        if "ModuleNotFoundError" in done.stderr or "OSError" in done.stderr:
            return None  # that alternative is not installed here
        raise RuntimeError(done.stderr)
    result: dict[str, object] = json.loads(done.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    started = time.perf_counter()
    print(
        f"{'library':<11} {'chart':<8} {'p50 ms':>7} {'p95 ms':>7} {'cpu p95':>7} "
        f"{'max ms':>7} {'first s':>8} {'+RSS 1st':>8} {'+RSS all':>8} {'PNG kB':>7}"
    )
    failed = False
    for kind in ("matplotlib", "pillow", "pygal"):
        result = measure(kind, args.runs)
        if result is None:
            print(f"{kind:<11} (not installed)")
            continue
        times: dict[str, list[float]] = result["times"]  # type: ignore[assignment]
        cpu: dict[str, list[float]] = result["cpu"]  # type: ignore[assignment]
        before = float(result["rss_before_mb"])  # type: ignore[arg-type]
        first = float(result["rss_after_first_mb"]) - before  # type: ignore[arg-type]
        grown = float(result["rss_after_runs_mb"]) - before  # type: ignore[arg-type]
        for which, name in (("0", "skills"), ("1", "wallet")):
            series = times[which]
            p95 = _p(series, 0.95)
            print(
                f"{kind:<11} {name:<8} {statistics.median(series):7.1f} {p95:7.1f} "
                f"{_p(cpu[which], 0.95):7.1f} {max(series):7.1f} "
                f"{float(result['first_chart_s']):8.2f} "  # type: ignore[arg-type]
                f"{first:8.1f} {grown:8.1f} "
                f"{int(result['png_bytes']) / 1024:7.1f}"  # type: ignore[call-overload]
            )
            if kind == "matplotlib" and p95 > TARGET_P95_MS:
                failed = True
    load = os.getloadavg()[0]
    print(
        f"target: p95 <= {TARGET_P95_MS:.0f} ms per chart (matplotlib, as the bot draws them); "
        f"{args.runs} runs each; {time.perf_counter() - started:.0f} s in all; "
        f"load average {load:.1f} on {os.cpu_count()} cores (wall times grow with it, cpu less)"
    )
    if failed:
        raise SystemExit("p95 over target")


if __name__ == "__main__":
    main()
