"""A full disk (ENOSPC) while writing any warehouse table raises DiskFull naming the table and path, and leaves no
temp or staging file behind. Runs on a real 1 MiB tmpfs; skipped where mounting is not permitted."""

from __future__ import annotations

import os
import shutil

import pyarrow as pa
import pytest

from curation.errors import DiskFull
from curation.warehouse import Quarantine, ShardWriter, Warehouse, refresh_catalog
from curation.warehouse.store import atomic_write_text
from tests.disk_support import fill, hidden
from tests.factories import doc_row, write_documents

pytestmark = pytest.mark.hostile("disk full", ok="clear_error", bad="corruption")  # tests/hostile_report.py


def _random_docs(n: int, start: int = 0):
    return [doc_row(f"t:{i}", os.urandom(8_000).hex()) for i in range(start, start + n)]


def test_shard_writer(tiny_fs):
    wh = Warehouse(tiny_fs / "wh").ensure()
    write_documents(wh, _random_docs(5), unit="kept")
    with pytest.raises(DiskFull) as err, ShardWriter(wh, "documents", "big") as w:
        w.write_many(_random_docs(400, start=5))  # ~6 MB of incompressible text on a 1 MB disk
    assert str(err.value) == f"disk full while writing documents at {wh.root / 'documents' / 'big'}"
    assert (err.value.table, err.value.path) == ("documents", str(wh.root / "documents" / "big"))
    assert wh.units("documents") == ["kept"] and hidden(wh.root) == []
    assert shutil.disk_usage(tiny_fs).free > 500_000  # the staged parts are gone


def test_caught_disk_full_cannot_become_a_commit(tiny_fs):
    """A stage that catches everything (to quarantine a parser bug) and commits anyway gets DiskFull again, instead
    of stats for rows that were never published."""
    wh = Warehouse(tiny_fs / "wh").ensure()
    w = ShardWriter(wh, "documents", "u")
    with pytest.raises(DiskFull):
        w.write_table(pa.Table.from_pylist(_random_docs(200)))
    with pytest.raises(DiskFull, match="while writing documents"):
        w.write_many(_random_docs(2_000))
    with pytest.raises(DiskFull, match="while writing documents"):
        w.commit()
    assert wh.units("documents") == [] and hidden(wh.root) == []


def test_quarantine(tiny_fs):
    wh = Warehouse(tiny_fs / "wh").ensure()
    expected = f"^disk full while writing quarantine at {wh.root}/quarantine/"
    with pytest.raises(DiskFull, match=expected), Quarantine(wh, "ingest", "run1") as q:
        for i in range(3_000):
            q.add("bad_record", f"f.xml:{i}", os.urandom(1_000).hex())
    assert wh.units("quarantine") == [] and hidden(wh.root) == []


def test_commit_on_a_full_disk(tiny_fs):
    """The footer written at commit is what does not fit."""
    wh = Warehouse(tiny_fs / "wh").ensure()
    w = ShardWriter(wh, "documents", "u")
    w.write_many(_random_docs(3))
    fill(tiny_fs)
    with pytest.raises(DiskFull, match="while writing documents"):
        w.commit()
    assert wh.units("documents") == [] and hidden(wh.root) == []


def test_run_record(tiny_fs):
    wh = Warehouse(tiny_fs / "wh").ensure()
    fill(tiny_fs)
    path = wh.runs_dir / "r1.json"
    with pytest.raises(DiskFull, match=f"^disk full while writing runs at {path}$"):
        atomic_write_text(path, "x" * 100_000)
    assert list(wh.runs_dir.iterdir()) == []


def test_catalog(tiny_fs):
    wh = Warehouse(tiny_fs / "wh").ensure()
    write_documents(wh, _random_docs(2))
    fill(tiny_fs, leave=16_384)
    with pytest.raises(DiskFull, match=f"^disk full while writing catalog at {wh.catalog_path}$"):
        refresh_catalog(wh)
    assert not wh.catalog_path.exists() and hidden(wh.root) == []
