"""Benchmark: wall time of an ad hoc stage command on a tiny input, as a user types it.

    python bench/startup.py [--rounds 5] [--quick]

Compares, interleaved round by round (this machine's speed drifts), `medcurate ingest --format jsonl ONE_LINE.jsonl`
run in process through the generic runner (the default when no Prefect API is configured) against the same command
with `--prefect`, which runs the stage as its Prefect flow on a temporary local Prefect server (what every stage
command paid before: ~14 s). Each run is a fresh process and a fresh warehouse. Also times `medcurate sql`.
Prints a table and writes bench/results/startup.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "startup.json"
ENV = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "MEDCURATE_PROGRESS": "0",
}


def timed(args: list[str]) -> float:
    t0 = time.perf_counter()
    r = subprocess.run(
        [sys.executable, "-m", "curation.cli", *args], capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=600
    )
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{r.stdout}\n{r.stderr}")
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="2 rounds")
    args = ap.parse_args()
    rounds = 2 if args.quick else args.rounds
    times: dict[str, list[float]] = {"ingest (in process)": [], "ingest --prefect": [], "sql": []}
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "one.jsonl"
        src.write_text(json.dumps({"id": "1", "text": "A one-line document about aspirin."}) + "\n")
        for i in range(rounds):
            for mode in ("ingest (in process)", "ingest --prefect"):
                wh = Path(tmp) / f"wh-{mode.split()[1][:3]}-{i}"
                extra = ["--prefect"] if "prefect" in mode else []
                times[mode].append(timed(["-w", str(wh), "ingest", "--format", "jsonl", *extra, str(src)]))
            times["sql"].append(timed(["-w", str(wh), "sql", "select count(*) from documents"]))
    t = Table(title=f"ad hoc command wall time, {rounds} interleaved rounds")
    for c in ("command", "best s", "median s", "rounds s"):
        t.add_column(c)
    for mode, xs in times.items():
        t.add_row(mode, f"{min(xs):.2f}", f"{statistics.median(xs):.2f}", " ".join(f"{x:.1f}" for x in xs))
    Console().print(t)
    ratio = min(times["ingest --prefect"]) / min(times["ingest (in process)"])
    Console().print(f"in process is {ratio:.1f}x faster than through a temporary Prefect server (best of each)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "rounds": rounds,
                "seconds": times,
                "speedup_best": ratio,
                "machine": platform.platform(),
                "cpus": os.cpu_count(),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
