"""Benchmark: the deid stage on generated clinical notes, pattern recognizers only (the baseline) vs full (patterns
plus names, locations and organizations), interleaved, each run in a fresh process so that its peak RSS is its own.

    python bench/deid.py [--notes 10000] [--rounds 2] [--quick]

Notes come from the fixture generator (tests/fixtures/deid/make_corpus.py: Faker, seeded). They are ingested once
(format `notes`); each run then de-identifies all of them with --force (reading documents, writing the
de-identified documents and phi_spans). Reports notes/s (best of the rounds) and peak RSS (max over the rounds),
prints a table and writes bench/results/deid.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing as mp
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MEDCURATE_PROGRESS", "0")

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "deid.json"
VARIANTS = ("pattern", "full")


def generate(path: Path, count: int) -> int:
    spec = importlib.util.spec_from_file_location("make_corpus", ROOT / "tests/fixtures/deid/make_corpus.py")
    corpus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(corpus)
    notes = corpus.build(count)
    with path.open("w") as f:
        for o in notes:
            f.write(json.dumps({k: o[k] for k in ("note_id", "patient_id", "text")}) + "\n")
    return sum(len(o["text"]) for o in notes)


def _ingest(warehouse: str, path: Path) -> None:
    from curation.ingest.ledger import Ledger
    from curation.ingest.runner import IngestJob, ingest_file
    from curation.warehouse import Warehouse

    wh = Warehouse(warehouse).ensure()
    res = ingest_file(wh, IngestJob(str(path), "notes", "notes"), "bench-ingest", Ledger(wh))
    assert res.status == "ingested" and res.quarantined == 0, res


def _run(warehouse: str, recognizers: str, queue: mp.Queue) -> None:
    from curation.deid.config import DeidConfig
    from curation.deid.stage import run_deid
    from curation.warehouse import Warehouse, start_run

    wh = Warehouse(warehouse)
    t = time.perf_counter()
    with start_run(wh, "deid") as run:
        counts = run_deid(wh, DeidConfig(recognizers=recognizers), run, force=True)
    seconds = time.perf_counter() - t
    queue.put({"seconds": seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **counts})


def run_variant(warehouse: str, recognizers: str) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_run, args=(warehouse, recognizers, q))
    p.start()
    out = q.get()
    p.join()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--notes", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="1,000 notes, one round")
    a = ap.parse_args()
    notes, rounds = (1000, 1) if a.quick else (a.notes, a.rounds)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "notes.jsonl"
        chars = generate(src, notes)
        warehouse = str(Path(tmp) / "warehouse")
        _ingest(warehouse, src)
        runs: dict[str, list[dict]] = {v: [] for v in VARIANTS}
        for _ in range(rounds):
            for v in VARIANTS:
                runs[v].append(run_variant(warehouse, v))
    rows = {}
    for v, rs in runs.items():
        best = min(rs, key=lambda r: r["seconds"])
        assert best["notes"] == notes, best
        rows[v] = {
            "notes": notes,
            "seconds": round(best["seconds"], 2),
            "notes_per_s": round(notes / best["seconds"], 1),
            "chars_per_s": round(chars / best["seconds"]),
            "peak_rss_mb": round(max(r["peak_rss_mb"] for r in rs), 1),
            "spans": best["spans"],
        }
    t = Table("recognizers", "notes", "s (best)", "notes/s", "peak RSS MB", "spans", title=f"deid, {notes} notes")
    for v, r in rows.items():
        t.add_row(
            v + (" (baseline)" if v == "pattern" else ""),
            str(notes),
            str(r["seconds"]),
            str(r["notes_per_s"]),
            str(r["peak_rss_mb"]),
            str(r["spans"]),
        )
    Console().print(t)
    full_cost = rows["pattern"]["notes_per_s"] / rows["full"]["notes_per_s"]
    Console().print(f"full is {full_cost:.2f}x slower than pattern-only; mean note {chars // notes} chars")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "notes": notes,
                "rounds": rounds,
                "results": rows,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
