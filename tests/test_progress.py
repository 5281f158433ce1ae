"""Stage progress: every built-in stage of a small build reports its main loop (unit, done/total, rate) through the
progress API; a command whose output is not a terminal prints plain progress lines (no control characters)."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

from curation.progress import ProgressEvent, Tracker, listen, stage_scope, track, tracker

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"


def test_track_and_tracker_report_counts_rows_and_rate():
    events: list[ProgressEvent] = []
    with listen(events.append), stage_scope("score"):
        assert list(track([[1, 2], [3]], total=3, unit="documents", size=len)) == [[1, 2], [3]]
        with tracker(2, "files") as bar:
            bar.advance(rows=10)
            bar.advance(rows=5)
    docs = [e for e in events if e.unit == "documents"]
    assert [(e.stage, e.done, e.total, e.final) for e in docs] == [
        ("score", 0, 3, False),
        ("score", 2, 3, False),
        ("score", 3, 3, False),
        ("score", 3, 3, True),
    ]
    assert docs[-1].rate > 0 and docs[-1].rows is None
    files = [e for e in events if e.unit == "files"][-1]
    assert (files.done, files.total, files.rows, files.final) == (2, 2, 15, True) and files.rows_rate > 0
    assert files.line().startswith("score: 2/2 files, ") and "15 rows" in files.line()


def test_a_tracker_sent_to_another_process_is_silent():
    events: list[ProgressEvent] = []
    with listen(events.append):
        bar = Tracker(5, "documents", stage="dedup")
        copy = pickle.loads(pickle.dumps(bar))
        copy.advance(3)
        copy.close()
    assert [(e.done, e.final) for e in events] == [(0, False)]  # only the original's opening event


def _manifest(tmp_path: Path) -> Path:
    p = tmp_path / "m.yaml"
    p.write_text(
        f"""name: progress
stages: [ingest, deid, dedup, score, decontam, validate, release]
sources:
  - {{name: pubmed, format: pubmed, paths: ["{DEMO}/pubmed/*.xml.gz"]}}
  - {{name: medqa, format: medqa, paths: ["{DEMO}/benchmarks/medqa_*.jsonl"]}}
  - {{name: notes, format: notes, paths: ["{ROOT}/tests/fixtures/deid/notes.jsonl"]}}
score: {{perplexity: {{enabled: false}}}}
release:
  version: 0.1.0
  out: rel
  configs:
    - {{name: documents, columns: [doc_id, source, title, text]}}
"""
    )
    return p


def test_every_stage_of_a_build_reports_its_main_loop(tmp_path, monkeypatch):
    from curation.deid.config import SECRET_ENV
    from curation.manifest import load_manifest
    from curation.orchestrate.build import run_build
    from curation.orchestrate.runner import run_stage
    from curation.warehouse import Warehouse

    monkeypatch.setenv(SECRET_ENV, "test-secret")
    manifest = load_manifest(_manifest(tmp_path))
    wh = Warehouse(tmp_path / "wh")
    events: list[ProgressEvent] = []
    with listen(events.append):
        outcome = run_build(manifest, wh, lambda stage, params: run_stage(stage, wh, manifest, params))
    assert {s: r["status"] for s, r in outcome.stages.items()} == dict.fromkeys(manifest.stages, "ran")
    final = {(e.stage, e.unit): e for e in events if e.final}
    units = {stage: unit for stage, unit in final}
    assert units == {
        "ingest": "files",
        "deid": "notes",
        "dedup": "documents signed",
        "score": "clean docs",
        "decontam": "documents",
        "validate": "tables",
        "release": "configs written",
    }
    for e in final.values():
        assert e.total is not None and e.done == e.total > 0, e
        assert e.rate > 0, e
    assert final["ingest", "files"].done == 5 and final["ingest", "files"].rows > 0
    assert final["deid", "notes"].done == final["deid", "notes"].rows > 0  # one de-identified row per raw note
    n_docs = final["decontam", "documents"].done
    assert final["score", "clean docs"].done == n_docs == final["release", "configs written"].rows
    # the events of a loop count up to its total
    done = [e.done for e in events if e.stage == "ingest"]
    assert done == sorted(done) and done[0] == 0


def test_a_command_without_a_terminal_prints_plain_progress_lines(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("MEDCURATE_PROGRESS", None)
    env.pop("PREFECT_API_URL", None)
    r = subprocess.run(
        [sys.executable, "-m", "curation.cli", "-w", str(tmp_path / "wh"), "ingest", str(_manifest(tmp_path))],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    lines = [line for line in r.stderr.splitlines() if line.startswith("ingest: ")]
    assert lines and lines[-1].startswith("ingest: 5/5 files, ") and lines[-1].endswith("; done"), r.stderr
    assert "rows/s" in lines[-1]
    assert "\x1b" not in r.stderr and "\r" not in r.stderr
