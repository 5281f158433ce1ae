"""Release of chain-of-thought rows (issue 12 item 5): several samples per benchmark item, validated with the real
synthetic_mcq_cot suite, and every sample of one item in one split."""

from __future__ import annotations

import json

import duckdb
import pytest

from curation.release import verify
from curation.release.errors import ReleaseError
from curation.warehouse import ShardWriter
from tests import release_support as rs
from tests.test_release import release

ITEMS, SAMPLES = 20, 3


def cot_row(item: int, sample: int) -> dict:
    return {
        "record_id": f"cot-{item}-{sample}",
        "item_id": f"medqa:train:{item}",
        "benchmark": "medqa",
        "question": f"Question {item}?",
        "options": [{"label": "A", "text": "yes"}, {"label": "B", "text": "no"}],
        "gold_answer": "A",
        "reasoning": f"Reasoning {sample} for item {item}.",
        "final_answer": "A",
        "n_samples": SAMPLES,
        "n_correct": SAMPLES,
        "pass_rate": 1.0,
        "model": "HuggingFaceTB/SmolLM2-135M-Instruct",
        "model_fingerprint": "sha256:test",
        "gate_passed": True,
        "gate": '{"version": "test"}',
        "prompt_id": "mcq_cot",
        "prompt_version": "v1",
        "sampling": "{}",
        "judge": '{"enabled": false}',
        "sample_index": sample,
        "n_prompt_tokens": 10,
        "n_output_tokens": 20,
        "cached": False,
        "run_id": "20260101T000000000000Z-synth-test",
    }


@pytest.fixture
def cot_manifest(wh, tmp_path):
    """A warehouse with the real schemas and a synthetic_mcq_cot table of ITEMS items x SAMPLES samples."""
    with ShardWriter(wh, "synthetic_mcq_cot", "u0") as w:
        for item in range(ITEMS):
            for sample in range(SAMPLES):
                w.write(cot_row(item, sample))
    configs = [{"name": "cot", "source": "synthetic_mcq_cot", "key": "record_id", "require_decontam": False}]
    return wh, rs.manifest_yaml(tmp_path / "m.yaml", validate=True, configs=configs)


def splits_by_item(release_dir) -> dict[str, set[str]]:
    files = [str(p) for p in (release_dir / "data/cot").rglob("*.parquet")]
    q = (
        "SELECT item_id, list(DISTINCT regexp_extract(filename, '(train|validation)-', 1)) "
        f"FROM read_parquet({files}, filename = true) GROUP BY 1"
    )
    return {item: set(s) for item, s in duckdb.connect().execute(q).fetchall()}


def test_cot_release_validates_with_the_real_suite(cot_manifest):
    """Regression: validation crashed on a pending DuckDB result the selection left on the connection."""
    wh, m = cot_manifest
    d = release(wh, m)
    man = json.loads((d / "manifest.json").read_text())
    v = man["validation"]["cot"]
    assert v["table"] == "synthetic_mcq_cot" and v["success"] and v["failed"] == 0 and v["expectations"] > 20
    assert man["total_rows"] == ITEMS * SAMPLES
    assert (d / "validation/data_docs/index.html").is_file()  # the release's own Data Docs site
    assert str(d.parent) not in (d / "validation/cot/validation.json").read_text()  # no local paths
    assert verify.verify(d) == []


def test_every_sample_of_an_item_stays_in_one_split(cot_manifest):
    wh, m = cot_manifest
    d = release(wh, m)
    by_item = splits_by_item(d)
    assert len(by_item) == ITEMS
    assert all(len(s) == 1 for s in by_item.values()), by_item
    assert {next(iter(s)) for s in by_item.values()} == {"train", "validation"}
    assert json.loads((d / "manifest.json").read_text())["configs"]["cot"]["split_key"] == "item_id"


def test_split_key_is_configurable_and_checked(cot_manifest, tmp_path):
    wh, _ = cot_manifest
    cfg = {"name": "cot", "source": "synthetic_mcq_cot", "key": "record_id", "require_decontam": False}
    m = rs.manifest_yaml(tmp_path / "m.yaml", validate=False, configs=[{**cfg, "split_key": "record_id"}])
    by_item = splits_by_item(release(wh, m, "1.0.0"))
    assert any(len(s) == 2 for s in by_item.values())  # split per sample: what the item key prevents
    m = rs.manifest_yaml(tmp_path / "m.yaml", validate=False, configs=[{**cfg, "split_key": "question_id"}])
    with pytest.raises(ReleaseError, match=r"split_key column 'question_id' does not exist in synthetic_mcq_cot"):
        release(wh, m, "2.0.0")
