"""The project's hostile-input suite as one table: every test marked `hostile(category, ok, bad)` is run and each
case's actual outcome (tests/hostile_report.py) is counted per category.

    PYTHONPATH=$PWD .venv/bin/python bench/hostile.py [-k EXPR] [pytest args ...]

Prints "category | cases | handled | clear error | silent loss | crash | corruption | security" (skipped cases, e.g.
the tmpfs ones without root, are listed below it and not counted) and writes bench/results/hostile.json with the
table and every case. Exits 1 when any case lands in the last four columns.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = ("handled", "clear_error", "silent_loss", "crash", "corruption", "security")
ORDER = (
    "ingest memory bounds",
    "readable rows kept",
    "ledger, paths, offsets, reasons",
    "ingest config errors",
    "SQL attacks",
    "YAML bomb",
    "disk full",
    "release paths",
)


def run_suite(extra: list[str]) -> tuple[dict[str, dict], int, float]:
    with tempfile.TemporaryDirectory() as d:
        report = Path(d) / "hostile.json"
        cmd = [sys.executable, "-m", "pytest", "-q", "-m", "hostile", "-p", "no:cacheprovider"]
        t = time.perf_counter()
        res = subprocess.run([*cmd, f"--hostile-report={report}", *extra], cwd=ROOT)
        elapsed = time.perf_counter() - t
        if not report.exists():
            sys.exit(f"pytest wrote no hostile report (exit {res.returncode})")
        return json.loads(report.read_text()), res.returncode, elapsed


def table(cases: dict[str, dict]) -> list[dict]:
    counts: dict[str, Counter[str]] = {}
    for case in cases.values():
        counts.setdefault(case["category"], Counter())[case["outcome"]] += 1
    rows = []
    for category in sorted(counts, key=lambda c: (ORDER.index(c) if c in ORDER else len(ORDER), c)):
        c = counts[category]
        rows.append({"category": category, "cases": sum(c[k] for k in COLUMNS), **{k: c[k] for k in COLUMNS}})
    rows.append({"category": "total", **{k: sum(r[k] for r in rows) for k in ("cases", *COLUMNS)}})
    return rows


def main() -> None:
    cases, pytest_rc, elapsed = run_suite(sys.argv[1:])
    rows = table(cases)
    print("\n| category | cases | handled | clear error | silent loss | crash | corruption | security |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(str(r[k]) for k in ("category", "cases", *COLUMNS)) + " |")
    skipped = sorted(n for n, c in cases.items() if c["outcome"] == "skipped")
    bad = sorted(n for n, c in cases.items() if c["outcome"] in COLUMNS[2:])
    for title, names in (("skipped (not counted)", skipped), ("NOT handled", bad)):
        if names:
            print(f"\n{title}:\n  " + "\n  ".join(f"{n}: {cases[n]['outcome']}" for n in names))
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    result = {"table": rows, "cases": cases, "pytest_exit": pytest_rc, "seconds": round(elapsed, 1)}
    (out / "hostile.json").write_text(json.dumps(result, indent=1))
    print(f"\n{len(cases)} cases in {elapsed:.0f} s; wrote {out / 'hostile.json'}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
