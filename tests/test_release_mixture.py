"""Release mixture controls (issue 12 item 3): weights (upsampling), order, balanced sampling, export formats."""

from __future__ import annotations

import json

import duckdb
import pyarrow.parquet as pq
import pytest

from curation.release import verify
from curation.release.errors import ReleaseError
from curation.warehouse import ShardWriter
from tests import release_support as rs
from tests.test_release import release
from tests.test_release_cot import cot_row

BASE = {"name": "cot", "source": "synthetic_mcq_cot", "key": "record_id", "require_decontam": False}


@pytest.fixture
def cot_wh(wh):
    """12 items x 2 samples; items 0-5 from medqa, 6-11 from medmcqa; pass_rate grows with the item number."""
    with ShardWriter(wh, "synthetic_mcq_cot", "u0") as w:
        for item in range(12):
            for sample in range(2):
                row = cot_row(item, sample)
                row.update(benchmark="medqa" if item < 6 else "medmcqa", pass_rate=item / 11, n_samples=2)
                w.write(row)
    return wh


def _release(wh, tmp_path, version="1.0.0", **cfg):
    m = rs.manifest_yaml(tmp_path / "m.yaml", validate=False, configs=[{**BASE, **cfg}])
    return release(wh, m, version)


def _rows(d, split="train"):
    files = sorted(str(p) for p in (d / "data/cot").rglob(f"{split}-*.parquet"))
    cur = duckdb.connect().execute(f"SELECT * FROM read_parquet({files})")
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def test_weight_upsamples_and_subsamples_stably(cot_wh, tmp_path):
    d = _release(cot_wh, tmp_path, weight=2.5)
    man = json.loads((d / "manifest.json").read_text())
    n = man["total_rows"]
    assert 2 * 24 < n < 3 * 24 and verify.verify(d) == []  # card, manifest and shards agree on exported rows
    again = _release(cot_wh, tmp_path, "1.0.1", weight=2.5)
    assert json.loads((again / "manifest.json").read_text())["total_rows"] == n  # the same rows, not a new draw
    half = json.loads((_release(cot_wh, tmp_path, "1.0.2", weight=0.5) / "manifest.json").read_text())
    assert 0 < half["total_rows"] < 24


def test_order_by_sorts_each_split(cot_wh, tmp_path):
    d = _release(cot_wh, tmp_path, order_by="pass_rate DESC")
    shards = sorted((d / "data/cot/noncommercial").glob("train-*.parquet"))  # written in order, 2 rows each
    rates = [x for p in shards for x in pq.read_table(p, columns=["pass_rate"])["pass_rate"].to_pylist()]
    assert rates == sorted(rates, reverse=True) and len(set(rates)) > 1


def test_balanced_sampling_is_a_reported_effect(cot_wh, tmp_path):
    d = _release(cot_wh, tmp_path, balance_by="benchmark", balance_per_value=5)
    man = json.loads((d / "manifest.json").read_text())
    rows = _rows(d) + _rows(d, "validation")
    assert sorted(r["benchmark"] for r in rows) == ["medmcqa"] * 5 + ["medqa"] * 5
    effect = man["configs"]["cot"]["rules"][-1]
    assert effect["name"] == "balanced_by_benchmark" and effect["removed"] == 14
    assert man["configs"]["cot"]["rows_out"] == 10


@pytest.mark.parametrize(
    ("fmt", "columns"),
    [
        ({"kind": "messages", "response": "reasoning", "system": "You are a careful clinician."}, ["messages"]),
        ({"kind": "alpaca", "response": "gold_answer"}, ["instruction", "input", "output"]),
        ({"kind": "think_answer", "keep_columns": False}, ["record_id", "prompt", "completion"]),
    ],
)
def test_export_formats(cot_wh, tmp_path, fmt, columns):
    d = _release(cot_wh, tmp_path, format=fmt)
    row = _rows(d)[0]
    assert set(columns) <= set(row)
    if fmt["kind"] == "messages":
        assert [t["role"] for t in row["messages"]] == ["system", "user", "assistant"]
        assert row["messages"][1]["content"] == row["question"]
    elif fmt["kind"] == "alpaca":
        assert (row["instruction"], row["input"], row["output"]) == (row["question"], "", "A")
    else:
        assert list(row) == columns
        assert row["completion"].startswith("<think>Reasoning") and row["completion"].endswith("<answer>A</answer>")
    assert verify.verify(d) == []


def test_bad_mixture_settings_fail_before_writing(cot_wh, tmp_path):
    with pytest.raises(ReleaseError, match="order_by or format"):
        _release(cot_wh, tmp_path, order_by="no_such_column")
    with pytest.raises(ReleaseError, match="balance_by column 'bench' does not exist"):
        _release(cot_wh, tmp_path, balance_by="bench", balance_per_value=2)
    assert not (tmp_path / "releases").exists()
