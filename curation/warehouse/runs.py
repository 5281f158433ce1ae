"""Run records: every stage run writes what it read (with sha256), its parameters, code version, counts, timings,
models, tokens and errors, as JSON under <warehouse>/runs/ (the `runs` view reads them)."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
import secrets
import subprocess
import threading
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from curation import __version__
from curation.errors import UserError
from curation.warehouse.store import Warehouse, atomic_write_text


def new_run_id(stage: str) -> str:
    """Sortable by start time across stages: 20261123T111700123456Z-ingest-a1b2c3."""
    now = dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dT%H%M%S%fZ}-{stage}-{secrets.token_hex(3)}"


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


@functools.cache
def code_version() -> str:
    """Package version plus the git commit of the checkout (with +dirty), when there is one."""
    root = Path(__file__).resolve().parents[2]
    try:
        sha = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, timeout=5
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha, dirty = "", ""
    return f"{__version__}+g{sha}{'.dirty' if dirty else ''}" if sha else __version__


class RunRecorder:
    """Accumulates a run's record; thread-safe so parallel tasks of one run can report into it."""

    def __init__(self, warehouse: Warehouse, stage: str, params: dict[str, Any] | None = None, run_id: str = ""):
        self.warehouse = warehouse.ensure()
        self.stage = stage
        self.run_id = run_id or new_run_id(stage)
        self._lock = threading.Lock()
        self._t0 = time.perf_counter()
        self.record: dict[str, Any] = {
            "run_id": self.run_id,
            "stage": stage,
            "status": "running",
            "started_at": dt.datetime.now(dt.UTC).isoformat(),
            "finished_at": None,
            "duration_s": None,
            "code_version": code_version(),
            "params": params or {},
            "inputs": [],
            "outputs": [],
            "counts": {},
            "quarantine_reasons": {},
            "timings_s": {},
            "models": {},
            "tokens": {},
            "errors": [],
            "extra": {},
        }
        self.counts: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()

    @property
    def path(self) -> Path:
        return self.warehouse.runs_dir / f"{self.run_id}.json"

    def add_input(self, path: str | Path, sha256: str, **info: Any) -> None:
        with self._lock:
            self.record["inputs"].append({"path": str(path), "sha256": sha256, **info})

    def add_output(self, table: str, unit: str, rows: int, **info: Any) -> None:
        with self._lock:
            self.record["outputs"].append({"table": table, "unit": unit, "rows": rows, **info})

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.counts[name] += n

    def quarantined(self, reasons: Counter[str] | dict[str, int]) -> None:
        with self._lock:
            for r, n in reasons.items():
                self.reasons[r] += n
                self.counts["quarantined"] += n

    def error(self, message: str, **info: Any) -> None:
        with self._lock:
            self.record["errors"].append({"message": message, **info})

    def set(self, section: str, key: str, value: Any) -> None:
        with self._lock:
            self.record[section][key] = value

    @contextlib.contextmanager
    def timed(self, name: str) -> Iterator[None]:
        t = time.perf_counter()
        try:
            yield
        finally:
            with self._lock:
                self.record["timings_s"][name] = round(
                    self.record["timings_s"].get(name, 0.0) + time.perf_counter() - t, 4
                )

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            rec = json.loads(json.dumps(self.record, default=str))
            rec["counts"] = dict(self.counts)
            rec["quarantine_reasons"] = dict(self.reasons)
            return rec

    def save(self) -> None:
        atomic_write_text(self.path, json.dumps(self.snapshot(), indent=2, sort_keys=True, default=str))

    def finish(self, status: str = "completed") -> dict[str, Any]:
        with self._lock:
            self.record["status"] = status
            self.record["finished_at"] = dt.datetime.now(dt.UTC).isoformat()
            self.record["duration_s"] = round(time.perf_counter() - self._t0, 4)
        self.save()
        return self.snapshot()


@contextlib.contextmanager
def start_run(
    warehouse: Warehouse, stage: str, params: dict[str, Any] | None = None, run_id: str = ""
) -> Iterator[RunRecorder]:
    """Open a run record; it is saved as running at once, then completed or failed (with the traceback)."""
    run = RunRecorder(warehouse, stage, params, run_id)
    run.save()
    try:
        yield run
    except BaseException as exc:
        run.error(f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc(limit=20))
        run.finish("failed" if isinstance(exc, Exception) else "interrupted")
        raise
    else:
        run.finish("completed")


def load_runs(warehouse: Warehouse) -> list[dict[str, Any]]:
    out = []
    if warehouse.runs_dir.is_dir():
        for p in sorted(warehouse.runs_dir.glob("*.json")):
            with contextlib.suppress(json.JSONDecodeError):
                out.append(json.loads(p.read_text()))
    return out


def load_run(warehouse: Warehouse, run_id: str) -> dict[str, Any]:
    p = warehouse.runs_dir / f"{run_id}.json"
    if not p.is_file():
        matches = sorted(warehouse.runs_dir.glob(f"*{run_id}*.json"))
        if len(matches) != 1:
            raise UserError(f"no unique run matching {run_id!r} in {warehouse.runs_dir}")
        p = matches[0]
    return json.loads(p.read_text())


def mark_interrupted(warehouse: Warehouse, since: str, note: str) -> list[str]:
    """Mark run records still `running` that a dead lock holder started (at or after `since`) as interrupted."""
    marked = []
    for r in load_runs(warehouse):
        if r.get("status") == "running" and str(r.get("started_at", "")) >= since:
            r["status"] = "interrupted"
            r.setdefault("errors", []).append({"message": note})
            atomic_write_text(warehouse.runs_dir / f"{r['run_id']}.json", json.dumps(r, indent=2, sort_keys=True))
            marked.append(r["run_id"])
    return marked
