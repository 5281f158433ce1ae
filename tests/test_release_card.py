"""The dataset card is Hub-clean: `datasets` loads every config (and the default) with no warning and the right row
counts; lineage, fields, citations and plots are readable and carry no local paths."""

from __future__ import annotations

import json
import logging
import re
import warnings

import pytest

from curation.release.card import read_front_matter
from curation.release.lineage import public_paths, public_ref
from tests import release_support as rs
from tests.test_release import release

pytest_plugins = ["tests.release_support"]  # the release_env / env fixtures


@pytest.fixture
def released(release_env):
    wh, tmp = release_env
    return release(wh, rs.manifest_yaml(tmp / "m.yaml")), tmp


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _load(path, config, cache):
    from datasets import load_dataset
    from datasets.utils.logging import get_logger

    handler = _Records()
    logger = get_logger("datasets")
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ds = load_dataset(str(path), config, cache_dir=str(cache))
    finally:
        logger.removeHandler(handler)
    return ds, handler.messages + [str(w.message) for w in caught]


def test_datasets_loads_every_config_without_warnings(released, monkeypatch):
    d, tmp = released
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    man = json.loads((d / "manifest.json").read_text())
    expected: dict[str, dict[str, int]] = {}
    for f in man["files"]:
        if "rows" in f:
            cfg = expected.setdefault(f"{f['config']}-{f['licence_class']}", {})
            cfg[f["split"]] = cfg.get(f["split"], 0) + f["rows"]
    meta = read_front_matter((d / "README.md").read_text())
    assert {c["config_name"] for c in meta["configs"]} == set(expected)
    assert [c["config_name"] for c in meta["configs"] if c.get("default")] == ["documents-commercial"]
    for config, splits in expected.items():
        ds, messages = _load(d, config, tmp / "hf-cache")
        assert messages == [], (config, messages)
        assert {s: len(ds[s]) for s in ds} == splits
    ds, messages = _load(d, None, tmp / "hf-cache")  # no config name: the default one
    assert messages == [] and {s: len(ds[s]) for s in ds} == expected["documents-commercial"]
    info = {i["config_name"]: i for i in meta["dataset_info"]}["grounded_qa-commercial"]
    assert [f["name"] for f in info["features"]][:2] == ["record_id", "doc_id"]
    assert info["download_size"] > 0 and all(s["num_bytes"] > 0 for s in info["splits"])


def test_card_lineage_fields_and_citations_are_readable(released):
    d, tmp = released
    text = (d / "README.md").read_text()
    assert str(tmp) not in text and "/data/" not in text  # no absolute local paths
    assert not re.search(r"\{'[^']+': ", text)  # no Python dict reprs
    assert "| stage | run | status | code version |" in text
    assert "| `pubmed.xml` |" in text  # source files by name, with their sha256
    assert "| `license` | `string` | normalized licence id" in text  # field descriptions from schemas/tables
    assert "Key `record_id`; rows sharing `doc_id` share a split." in text
    assert "```bibtex\n@misc{pubmed," in text and "@misc{pmc_oa," in text
    assert 'load_dataset("path/to/this/release", "documents-commercial")' in text


def test_plots_are_chosen_by_column_type(released):
    d, _ = released
    plots = {p["column"]: p for p in json.loads((d / "manifest.json").read_text())["plots"] if "documents" in p["path"]}
    assert plots["heuristic_pass"]["kind"] == "bars"  # a boolean
    assert plots["edu_int"]["kind"] == "bars"  # a 0-5 scale, one bar per value
    assert plots["ppl"]["kind"] == "log histogram"
    assert plots["source"]["kind"] == "bars" and plots["license"]["kind"] == "bars"
    assert "edu_score" not in plots  # one plot per signal: edu_int stands for it


def test_public_references_never_carry_local_paths(tmp_path):
    hub = "/home/u/.cache/huggingface/hub/models--HuggingFaceTB--SmolLM2-135M-Instruct/snapshots/0a1b"
    assert public_ref(hub) == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert public_ref("HuggingFaceTB/SmolLM2-135M-Instruct") == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert public_ref(str(tmp_path / "ref-lm")) == "ref-lm (local)"
    assert public_paths(f"{tmp_path}/ref-lm@abc123") == "ref-lm (local)@abc123"
