"""NLU benchmark: training time, parse latency (p50/p99), batch throughput, model size, memory.

Run: .venv/bin/python -m bench.nlu
Each phase runs in its own process so its peak memory (max RSS) is its own.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_train(directory: Path) -> dict[str, Any]:
    from nlu import NluModel

    started = time.perf_counter()
    model = NluModel.train()
    seconds = time.perf_counter() - started
    model.save(directory)
    size = sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
    return {
        "train_seconds": round(seconds, 2),
        "examples": model.meta["examples"],
        "rows": model.meta["training_rows"],
        "model_mib": round(size / 2**20, 1),
        "peak_rss_mib": round(_rss_mib()),
    }


def phase_parse(directory: Path, n: int) -> dict[str, Any]:
    from nlu import NluModel, load_training_data

    started = time.perf_counter()
    model = NluModel.load(directory)
    load_seconds = time.perf_counter() - started
    texts = [e.text for e in load_training_data().examples]
    rng = random.Random(1)
    sample = [rng.choice(texts) for _ in range(n)]
    for text in sample[:50]:  # warm-up
        model.parse(text)
    timings = []
    for text in sample:
        t0 = time.perf_counter()
        model.parse(text)
        timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    t0 = time.perf_counter()
    model.parse_batch(sample)
    batch_seconds = time.perf_counter() - t0
    return {
        "load_seconds": round(load_seconds, 2),
        "utterances": n,
        "p50_ms": round(statistics.median(timings), 3),
        "p99_ms": round(timings[int(len(timings) * 0.99) - 1], 3),
        "max_ms": round(timings[-1], 3),
        "batch_per_second": round(n / batch_seconds),
        "peak_rss_mib": round(_rss_mib()),
    }


def _child(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.nlu", *args], capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--phase", choices=["train", "parse"])
    parser.add_argument("--dir", type=Path)
    parser.add_argument("-n", type=int, default=2000)
    args = parser.parse_args()
    if args.phase == "train":
        print(json.dumps(phase_train(args.dir)))
        return
    if args.phase == "parse":
        print(json.dumps(phase_parse(args.dir, args.n)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "model"
        train = _child("--phase", "train", "--dir", str(directory))
        parse = _child("--phase", "parse", "--dir", str(directory), "-n", str(args.n))
    print(
        f"training: {train['train_seconds']} s on {train['examples']} examples "
        f"({train['rows']} rows with typo and concept-swap augmentation), "
        f"peak RSS {train['peak_rss_mib']} MiB"
    )
    print(f"model on disk: {train['model_mib']} MiB; load {parse['load_seconds']} s")
    print(
        f"parse, one utterance at a time (n={parse['utterances']}): p50 {parse['p50_ms']} ms, "
        f"p99 {parse['p99_ms']} ms, max {parse['max_ms']} ms"
    )
    print(
        f"batch throughput: {parse['batch_per_second']} utterances/s; "
        f"peak RSS while parsing {parse['peak_rss_mib']} MiB"
    )


if __name__ == "__main__":
    main()
