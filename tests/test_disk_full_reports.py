"""A full disk (ENOSPC) while writing a validation report, the Data Docs site, a release or its archive ends as one
DiskFull line naming what and where, with no partial or temp file left and the run recorded as failed (issue 16,
item 5). Runs on a real 1 MiB tmpfs; skipped where mounting is not permitted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from curation.errors import DiskFull
from curation.manifest import load_manifest
from curation.orchestrate.runner import StageFailed, run_stage
from curation.release.publish import publish_tar
from curation.validate import validate_table
from curation.warehouse import Warehouse
from tests import release_support as rs
from tests.disk_support import all_files, fill, hidden
from tests.factories import doc_row, write_documents
from tests.test_release import release

pytestmark = pytest.mark.hostile("disk full", ok="clear_error", bad="corruption")  # tests/hostile_report.py
pytest_plugins = ["tests.release_support"]  # the release_env / env fixtures


def _docs(n: int) -> list[dict]:
    return [doc_row(f"pubmed:{i}", f"Abstract number {i} about medicine.", pmid=str(i)) for i in range(n)]


def _run_records(wh: Warehouse) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(wh.runs_dir.glob("*.json"))]


def test_validation_report_on_a_full_disk(tiny_fs):
    """GE's per-batch results are what does not fit: the hidden temp report is removed, nothing else is written."""
    out = tiny_fs / "report"
    fill(tiny_fs, leave=4_096)
    rows = pa.Table.from_pylist(_docs(2_000))
    with pytest.raises(DiskFull) as err:
        validate_table(duckdb.connect(), "documents", data=rows, out_dir=out, data_docs=False, batch_rows=200)
    assert str(err.value) == f"disk full while writing validation report of documents at {out}"
    assert all_files(tiny_fs) == ["filler"] and hidden(tiny_fs) == []


def test_data_docs_site_on_a_full_disk_keeps_what_was_there(small_fs):
    """A site that already has a run: the second add does not fit; what it wrote (truncated pages, the result, the
    index and suite being rewritten) is removed, the earlier run's pages and result are untouched, and the next add
    that fits renders the index again."""
    root = small_fs / "site"
    data = pa.Table.from_pylist(_docs(3))
    validate_table(duckdb.connect(), "documents", data=data, run_id="r1", docs_root=root)
    before = {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    fill(small_fs, leave=20_000)  # room for a few of the ~170 kB a result and its pages take
    with pytest.raises(DiskFull, match=f"^disk full while writing Data Docs at {root / 'data_docs'}$"):
        validate_table(duckdb.connect(), "documents", data=data, run_id="r2", docs_root=root)
    after = {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    assert set(after) <= set(before), set(after) - set(before)  # nothing of run r2
    assert all(after[p] == before[p] for p in after)  # no truncated file
    redone = {Path("data_docs/index.html"), Path("gx/expectations/documents.json")}  # rewritten by every add
    assert set(before) - set(after) <= redone
    (small_fs / "filler").unlink()
    validate_table(duckdb.connect(), "documents", data=data, run_id="r3", docs_root=root)
    assert (root / "data_docs" / "index.html").is_file() and (root / "gx" / "validations" / "documents" / "r3").is_dir()


def test_validate_command_on_a_full_disk(tiny_fs, tmp_path):
    """The whole stage on a 1 MiB warehouse: the site's static assets do not fit. One line, exit 2, the run recorded
    as failed (the rollback frees the space its record needs), no quarantine or report files left."""
    wh = Warehouse(tiny_fs / "wh").ensure()
    write_documents(wh, _docs(3))
    files = set(all_files(wh.root))
    manifest = tmp_path / "m.yaml"
    manifest.write_text("name: t\nstages: [validate]\n")
    r = subprocess.run(
        [sys.executable, "-m", "curation.cli", "-w", str(wh.root), "validate", str(manifest), "--table", "documents"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "400"},
    )
    assert r.returncode == 2, r.stderr
    line = f"error: disk full while writing Data Docs at {wh.root / 'validation' / 'data_docs'} (run "
    assert (r.stdout + r.stderr).strip().startswith(line) and (r.stdout + r.stderr).count("\n") == 1, r
    (record,) = _run_records(wh)
    assert record["status"] == "failed" and "DiskFull" in record["errors"][0]["message"]
    left = set(all_files(wh.root)) - files
    assert {f.split("/")[0] for f in left} <= {"runs", "logs", "catalog.duckdb", ".lock"}, left  # flock's file
    assert hidden(wh.root) == [".lock"]


def test_release_on_a_full_disk(env, tiny_fs):
    """The release tree does not fit: no staging, spill or empty `<out>/<name>` directory is left, the run record
    says failed and the cause is one DiskFull line naming the release."""
    wh, tmp = env
    manifest = load_manifest(rs.manifest_yaml(tmp / "m.yaml", out=str(tiny_fs / "releases")))
    fill(tiny_fs, leave=40_000)
    with pytest.raises(StageFailed) as failed:
        run_stage("release", wh, manifest, {"version": "1.0.0"})
    assert failed.value.user_error
    final = tiny_fs / "releases" / "medtest" / "1.0.0"
    assert str(failed.value.cause) == f"disk full while writing release at {final}"
    assert all_files(tiny_fs) == ["filler"] and list(tiny_fs.iterdir()) == [tiny_fs / "filler"]
    (record,) = [r for r in _run_records(wh) if r["stage"] == "release"]
    assert record["status"] == "failed"


def test_release_archive_on_a_full_disk(env, tiny_fs):
    wh, tmp = env
    final = release(wh, rs.manifest_yaml(tmp / "m.yaml", out=str(tiny_fs / "releases")))
    fill(tiny_fs, leave=4_096)
    archive = final.parent / f"medtest-{final.name}.tar.gz"
    with pytest.raises(DiskFull, match=f"^disk full while writing release archive at {archive}$"):
        publish_tar(final)
    assert hidden(tiny_fs) == [] and not archive.exists()
