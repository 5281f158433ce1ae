"""Crash safety: a build SIGKILLed at a unit commit point (MEDCURATE_CRASH_AT, the test hook in
Warehouse.publish) and rerun gives exactly the warehouse of an uninterrupted build: same rows and ids in every
table, no duplicate keys, no visible temp files.

Adding a stage is one CrashCase: the stage, the table whose N-th published unit is the crash point, and the
manifest to build.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import yaml

from curation.warehouse import Warehouse, connect
from tests.orchestration_data import (
    describe_difference,
    release_content,
    visible_temp_files,
    warehouse_content,
    write_manifest,
    write_medqa_files,
)
from tests.synth_helpers import PLUMBING_GATE

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "manifests" / "demo.yaml"


SRC = Path(tempfile.gettempdir()) / f"medcurate-crash-src-{os.getpid()}"  # one copy: source paths are in the rows


def _medqa_project(tmp: Path) -> Path:
    if not SRC.is_dir():
        write_medqa_files(SRC, n_files=4, rows=6)
    return write_manifest(tmp / "m.yaml", ["ingest"], glob=str(SRC / "medqa-*.jsonl"), workers=2)


MODEL = Path(tempfile.gettempdir()) / f"medcurate-crash-model-{os.getpid()}"


def _pipeline_project(tmp: Path) -> Path:
    """The demo corpus through ingest, dedup, synth (tiny random model, one small task) and release: every stage
    whose output a crash could corrupt, without the slow scoring stage."""
    from curation.synth.tiny_model import make_tiny_model

    make_tiny_model(MODEL)
    demo = yaml.safe_load(DEMO.read_text())
    sources = [{**s, "paths": [str((DEMO.parent / p).resolve()) for p in s["paths"]]} for s in demo["sources"]]
    spec = {
        "name": "crash-pipeline",
        "stages": ["ingest", "dedup", "decontam", "synth", "release"],
        "sources": sources,
        # Checks loose enough that the random model's schema-constrained pairs pass, so every batch publishes a unit.
        "synth": {
            "model": str(MODEL),
            "tasks": ["grounded_qa"],
            "batch_size": 4,
            "sampling": {"temperature": 1.0, "max_tokens": 200, "seed": 3},
            "passages": {"max_tokens": 80, "min_tokens": 5, "limit_docs": 4, "tokenizer": str(MODEL)},
            "grounded_qa": {
                "pairs_per_passage": 2,
                "limit": 12,
                "min_grounding": 0.0,
                "min_question_chars": 1,
                "min_answer_chars": 1,
                "max_question_chars": 60,
                "max_answer_chars": 60,
                "gate": PLUMBING_GATE,
            },
        },
        "release": {
            "version": "1.0.0",
            "out": str(tmp / "release"),
            "validate": False,
            "configs": [
                {
                    "name": "documents",
                    "rules": [{"name": "not_duplicate", "where": "NOT coalesce(is_duplicate, false)"}],
                },
                {"name": "grounded_qa", "source": "synthetic_grounded_qa_checked", "key": "record_id"},
            ],
        },
    }
    path = tmp / "pipeline.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


@dataclass(frozen=True)
class CrashCase:
    id: str
    stage: str
    table: Callable[[], str | None]  # the table whose N-th published unit is the crash point
    n: int
    point: str  # "after" the unit is published, or "before" (its staging dir is left behind)
    manifest: Callable[[Path], Path]


CASES = [
    CrashCase("ingest-after-2nd-unit", "ingest", lambda: "benchmark_items", 2, "after", _medqa_project),
    CrashCase("ingest-mid-write-3rd-unit", "ingest", lambda: "benchmark_items", 3, "before", _medqa_project),
    CrashCase("ingest-after-2nd-ledger-row", "ingest", lambda: "source_files", 2, "after", _medqa_project),
    CrashCase("dedup-after-1st-unit", "dedup", lambda: "annotations_dedup", 1, "after", _pipeline_project),
    CrashCase("synth-after-2nd-unit", "synth", lambda: "synthetic_grounded_qa", 2, "after", _pipeline_project),
    CrashCase("release-before-rename", "release", lambda: "release", 1, "before", _pipeline_project),
]


def _session_processes(sid: int) -> list[psutil.Process]:
    out = []
    for p in psutil.process_iter():
        try:
            if os.getsid(p.pid) == sid and p.pid != sid:
                out.append(p)
        except (ProcessLookupError, psutil.NoSuchProcess):
            continue
    return out


def _build(manifest: Path, wh: Path, url: str, crash_at: str | None = None) -> subprocess.CompletedProcess:
    """Run a build in its own session, output to files (not pipes, which an orphan could hold open). After it ends,
    every process it started (vLLM's engine core and workers, the reaper) must be gone within a grace period: a
    crashed build must not leave an engine holding memory beside the rerun."""
    # a SIGKILLed flow keeps its warehouse slot until the lease runs out (a minute, Prefect's shortest); these tests
    # are about the data a rerun leaves, which the warehouse lock alone guards
    env = {
        **os.environ,
        "PREFECT_API_URL": url,
        "PYTHONPATH": str(ROOT),
        "MEDCURATE_PROGRESS": "0",
        "MEDCURATE_WAREHOUSE_SLOT": "off",
    }
    env.pop("MEDCURATE_CRASH_AT", None)
    if crash_at:
        env["MEDCURATE_CRASH_AT"] = crash_at
    args = [sys.executable, "-m", "curation.cli", "-w", str(wh), "build", str(manifest)]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=err, start_new_session=True)
        try:
            rc = proc.wait(timeout=900)
        finally:
            deadline = time.monotonic() + 30
            while (left := _session_processes(proc.pid)) and time.monotonic() < deadline:
                time.sleep(0.5)
            for p in left:
                p.kill()
        out.seek(0)
        err.seek(0)
        result = subprocess.CompletedProcess(args, rc, out.read(), err.read())
    assert not left, f"processes outlived the build: {[p.pid for p in left]}\n{result.stderr[-2000:]}"
    return result


def _content(project: Path) -> dict:
    """What a build leaves: the warehouse's rows and the rows of every published release file."""
    return {"warehouse": warehouse_content(project / "wh"), "release": release_content(project / "release")}


@pytest.fixture(scope="module")
def clean_builds(tmp_path_factory, prefect_server):
    """One uninterrupted build per manifest kind, shared by the cases."""
    cache: dict[Callable, dict] = {}

    def get(make_manifest: Callable[[Path], Path]) -> dict:
        if make_manifest not in cache:
            tmp = tmp_path_factory.mktemp("clean")
            r = _build(make_manifest(tmp), tmp / "wh", prefect_server)
            assert r.returncode == 0, r.stderr[-3000:]
            cache[make_manifest] = _content(tmp)
        return cache[make_manifest]

    yield get
    shutil.rmtree(SRC, ignore_errors=True)
    shutil.rmtree(MODEL, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_killed_build_reruns_to_the_clean_result(case, tmp_path, prefect_server, clean_builds):
    expected = clean_builds(case.manifest)
    manifest = case.manifest(tmp_path)
    wh = tmp_path / "wh"
    crashed = _build(manifest, wh, prefect_server, crash_at=f"{case.table()}:{case.n}:{case.point}")
    assert crashed.returncode == -signal.SIGKILL, f"expected a SIGKILL at the crash point:\n{crashed.stderr[-3000:]}"
    partial = _content(tmp_path)
    assert partial != expected  # the crash really cut the build short
    if case.point == "before":
        assert any(p.name.startswith(".tmp-") for p in tmp_path.rglob("*")), "a staged unit should be left behind"

    rerun = _build(manifest, wh, prefect_server)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert visible_temp_files(tmp_path) == []
    got = _content(tmp_path)
    assert got == expected, "\n".join(describe_difference(got, expected))
    statuses = (
        connect(Warehouse(wh)).execute("select stage, status, count(*) from runs group by all order by all").fetchall()
    )
    assert ("build", "completed", 1) in statuses and (case.stage, "completed", 1) in statuses
    assert ("build", "interrupted", 1) in statuses and (case.stage, "interrupted", 1) in statuses
