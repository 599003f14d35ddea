"""Rasa with its own DIET pipeline vs Rasa with Leerloop as its NLU server, side by side.

Both assistants are exported from Leerloop's data (`leerloop rasa export`), run by a real Rasa
3.6.21 (`make rasa`) and asked through Rasa's own `POST /model/parse`, one utterance at a time,
for every example of Leerloop's held-out file (`tests/nlu/held_out.yml`): intent macro-F1 and
accuracy (as `leerloop nlu evaluate` scores them), and parse latency as Rasa's client sees it.

Run: .venv/bin/python -m bench.rasa_compare [--epochs 30] [--diet-model PATH]
DIET training is CPU-heavy (about half a minute per epoch on this machine's two shared cores);
`--diet-model` reuses a model trained before (`rasa train nlu` in a `--nlu diet` export).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
RASA = Path(os.environ.get("RASA_VENV", ROOT / ".rasa-venv")) / "bin" / "rasa"
HELD_OUT = ROOT / "tests" / "nlu" / "held_out.yml"
RASA_ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _rss_mib(pid: int) -> float:
    """Resident memory of a running process (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def _serving(args: list[str], cwd: Path, env: dict[str, str], url: str) -> Iterator[int]:
    """Start a server, wait until `url` answers 200, yield its pid, stop it."""
    log = tempfile.NamedTemporaryFile(prefix="rasa-compare-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(args, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 600
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{args[0]} exited: see {log.name}")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not come up: see {log.name}")
            time.sleep(0.5)
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _export(directory: Path, *extra: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "rasa", "export", str(directory), *extra],
        check=True,
        capture_output=True,
        cwd=directory.parent,
    )


def _train(project: Path, what: list[str]) -> tuple[float, float]:
    """`rasa train ...`: seconds and the peak memory of the training process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run(
        [str(RASA), "train", *what, "--out", "models"],
        cwd=project,
        env=RASA_ENV,
        check=True,
        capture_output=True,
    )
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, (peak if peak > before else 0) / 1024


def _measure(base: str, examples: list[Any]) -> dict[str, Any]:
    from nlu._evaluate import intent_report

    with httpx.Client(timeout=60) as client:
        for example in examples[:10]:  # warm-up
            client.post(f"{base}/model/parse", json={"text": example.text})
        predicted, timings = [], []
        for example in examples:
            t0 = time.perf_counter()
            response = client.post(f"{base}/model/parse", json={"text": example.text})
            timings.append((time.perf_counter() - t0) * 1000)
            response.raise_for_status()
            predicted.append(response.json()["intent"]["name"])
    report = intent_report([e.intent for e in examples], predicted)
    timings.sort()
    return {
        "examples": len(examples),
        "macro_f1": report["macro_f1"],
        "accuracy": report["accuracy"],
        "fallback_rate": round(predicted.count("nlu_fallback") / len(predicted), 4),
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 1),
        "max_ms": round(timings[-1], 1),
    }


def _rasa_run(project: Path, model: Path, port: int) -> list[str]:
    return [
        str(RASA),
        "run",
        "--enable-api",
        "--interface",
        "127.0.0.1",
        "--port",
        str(port),
        "--model",
        str(model),
        "--endpoints",
        "endpoints.yml",
    ]


def compare(epochs: int, diet_model: Path | None) -> dict[str, Any]:
    import nlu

    examples = nlu.load_yaml(HELD_OUT).examples
    results: dict[str, Any] = {"held_out": str(HELD_OUT.relative_to(ROOT))}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)

        # Rasa with its own DIET pipeline, trained on Leerloop's examples.
        diet = work / "diet"
        _export(diet, "--nlu", "diet", "--epochs", str(epochs))
        diet_result: dict[str, Any] = {"epochs": epochs}
        if diet_model is None:
            seconds, peak = _train(diet, ["nlu", "--fixed-model-name", "diet"])
            diet_model = diet / "models" / "diet.tar.gz"
            diet_result |= {"train_seconds": round(seconds), "train_peak_rss_mib": round(peak)}
        port = _port()
        with _serving(
            _rasa_run(diet, diet_model, port), diet, RASA_ENV, f"http://127.0.0.1:{port}/"
        ) as pid:
            diet_result |= _measure(f"http://127.0.0.1:{port}", examples)
            diet_result["server_rss_mib"] = round(_rss_mib(pid))
        results["rasa_diet"] = diet_result

        # Rasa with Leerloop as its NLU server (`endpoints.yml` nlu: url:).
        api_port, rasa_port = _port(), _port()
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite+aiosqlite:///{work / 'leerloop.db'}",
            "HTTP_PORT": str(api_port),
            "TELEGRAM_BOT_TOKEN": "",
        }
        project = work / "leerloop"
        _export(project, "--nlu-url", f"http://127.0.0.1:{api_port}")
        seconds, _ = _train(project, ["--fixed-model-name", "rules"])
        ours: dict[str, Any] = {"train_seconds": round(seconds, 1)}
        leerloop = [sys.executable, "-m", "bot.cli", "run"]
        with _serving(leerloop, work, env, f"http://127.0.0.1:{api_port}/healthz") as leerloop_pid:
            direct = _measure(f"http://127.0.0.1:{api_port}", examples)
            with _serving(
                _rasa_run(project, project / "models" / "rules.tar.gz", rasa_port),
                project,
                RASA_ENV,
                f"http://127.0.0.1:{rasa_port}/",
            ) as rasa_pid:
                ours |= _measure(f"http://127.0.0.1:{rasa_port}", examples)
                ours["server_rss_mib"] = round(_rss_mib(rasa_pid))
                ours["leerloop_rss_mib"] = round(_rss_mib(leerloop_pid))
        results["rasa_with_leerloop_nlu"] = ours
        results["leerloop_direct_http"] = {
            k: direct[k] for k in ("macro_f1", "accuracy", "p50_ms", "p95_ms")
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=30, help="DIET epochs (Rasa's default: 100)")
    parser.add_argument("--diet-model", type=Path, help="a DIET model trained before")
    args = parser.parse_args()
    if not RASA.exists():
        raise SystemExit(f"no Rasa at {RASA}: run `make rasa` first")
    results = compare(args.epochs, args.diet_model)
    print(json.dumps(results, indent=2))
    diet, ours = results["rasa_diet"], results["rasa_with_leerloop_nlu"]
    print(f"\nheld-out: {results['held_out']} ({diet['examples']} examples)")
    print("| Rasa 3.6.21 with | macro-F1 | accuracy | fallback | parse p50 | parse p95 | RSS |")
    print("|---|---|---|---|---|---|---|")
    for name, row in ((f"DIET ({diet['epochs']} epochs)", diet), ("Leerloop NLU", ours)):
        print(
            f"| {name} | {row['macro_f1']} | {row['accuracy']} | {row['fallback_rate']} "
            f"| {row['p50_ms']} ms | {row['p95_ms']} ms | {row['server_rss_mib']} MiB |"
        )


if __name__ == "__main__":
    main()
