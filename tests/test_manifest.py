"""Manifests are strict: unknown keys anywhere are errors naming their path; paths, stage order, names checked."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from curation.cli import app
from curation.manifest import ManifestError, load_manifest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "data" / "demo" / "benchmarks"


def _write(tmp_path: Path, spec: dict) -> Path:
    p = tmp_path / "m.yaml"
    p.write_text(yaml.safe_dump(spec, sort_keys=False))
    return p


def _base() -> dict:
    return {
        "name": "t",
        "stages": ["ingest"],
        "sources": [
            {"name": "medqa", "format": "medqa", "paths": [str(BENCH / "medqa_*.jsonl")]},
            {"name": "medmcqa", "format": "medmcqa", "paths": [str(BENCH / "medmcqa_dev.jsonl")],
             "options": {"cop_base": 1}},
        ],
    }  # fmt: skip


def _error(tmp_path: Path, spec: dict) -> str:
    with pytest.raises(ManifestError) as e:
        load_manifest(_write(tmp_path, spec))
    return str(e.value)


def test_valid_manifest_resolves_globs(tmp_path):
    m = load_manifest(_write(tmp_path, _base()))
    assert [p.name for p in m.source_files(m.sources[0])] == ["medqa_test.jsonl", "medqa_train.jsonl"]
    assert m.sources[1].options == {"cop_base": 1} and len(m.sha256) == 64


def test_relative_paths_resolve_against_the_manifest(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "medqa_dev.jsonl").write_text("{}\n")
    spec = {"name": "t", "sources": [{"name": "q", "format": "medqa", "paths": ["sub/*.jsonl"]}]}
    m = load_manifest(_write(tmp_path, spec))
    assert m.source_files(m.sources[0]) == [tmp_path / "sub" / "medqa_dev.jsonl"]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda s: s.update(colour="red"), "colour: unknown key"),
        (lambda s: s["sources"][0].update(pathz=["x"]), "sources.0.pathz: unknown key"),
        (lambda s: s["sources"][1]["options"].update(copbase=1), "sources.1.options: copbase: unknown key"),
        (lambda s: s["sources"][0].update(options={"split": "x", "shuffle": True}),
         "sources.0.options: shuffle: unknown key"),
        (lambda s: s.update(ingest={"workerz": 2}), "ingest.workerz: unknown key"),
        (lambda s: s.update(dedup={"threshold_typo": 0.8}), "dedup.threshold_typo: unknown key"),
        (lambda s: s["sources"][1].update(options={}), "sources.1.options: cop_base: Field required"),
        (lambda s: s["sources"][0].update(format="docx"), "sources.0.format"),
    ],
)  # fmt: skip
@pytest.mark.hostile("ingest config errors", ok="clear_error", bad="crash")
def test_unknown_keys_name_their_path(tmp_path, mutate, expected):
    spec = _base()
    mutate(spec)
    msg = _error(tmp_path, spec)
    assert expected in msg and "invalid manifest" in msg


@pytest.mark.hostile("ingest config errors", ok="clear_error", bad="crash")
def test_missing_path_is_an_error(tmp_path):
    spec = _base()
    spec["sources"][0]["paths"].append(str(tmp_path / "nowhere" / "*.jsonl"))
    msg = _error(tmp_path, spec)
    assert "sources.medqa.paths.1: no file matches" in msg and "nowhere" in msg
    assert load_manifest(_write(tmp_path, spec), check_paths=False).name == "t"


def test_stage_order_and_duplicates(tmp_path):
    spec = _base() | {"stages": ["ingest", "synth", "dedup"]}
    assert "stages must follow the pipeline order" in _error(tmp_path, spec)
    spec = _base() | {"stages": ["ingest", "ingest"]}
    assert "listed twice" in _error(tmp_path, spec)
    spec = _base() | {"stages": ["ingest", "clean"]}
    assert "stages.1" in _error(tmp_path, spec)
    spec = _base()
    spec["sources"][1]["name"] = "medqa"
    assert "duplicate source names: ['medqa']" in _error(tmp_path, spec)


@pytest.mark.hostile("ingest config errors", ok="clear_error", bad="crash")
def test_not_a_manifest(tmp_path):
    with pytest.raises(ManifestError, match="manifest not found"):
        load_manifest(tmp_path / "missing.yaml")
    p = tmp_path / "bad.yaml"
    p.write_text("name: [unclosed\n")
    with pytest.raises(ManifestError, match="not valid YAML"):
        load_manifest(p)
    p.write_text("- a\n- b\n")
    with pytest.raises(ManifestError, match="mapping at the top level"):
        load_manifest(p)


def test_manifest_check_cli(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(app, ["manifest", "check", str(_write(tmp_path, _base()))])
    assert ok.exit_code == 0, ok.output
    assert "ok" in ok.output and "2 sources, 3 files" in ok.output and "['ingest']" in ok.output
    spec = _base()
    spec["sources"][0]["pathz"] = ["x"]
    bad = runner.invoke(app, ["manifest", "check", str(_write(tmp_path, spec))])
    assert bad.exit_code == 2
    assert "sources.0.pathz: unknown key" in bad.output and "Traceback" not in bad.output


def test_manifest_check_entry_point(tmp_path):
    spec = _base() | {"colour": "red"}
    proc = subprocess.run(
        [sys.executable, "-m", "curation.cli", "manifest", "check", str(_write(tmp_path, spec))],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2 and "colour: unknown key" in proc.stderr


def test_demo_manifest_checks():
    if any(importlib.util.find_spec(m) is None for m in ("curation.ingest.pubmed", "curation.ingest.pmc")):
        pytest.skip("PubMed/PMC parsers not on this branch")
    m = load_manifest(ROOT / "manifests" / "demo.yaml")
    assert m.name == "demo" and {s.format for s in m.sources} >= {"pubmed", "pmc", "medmcqa"}
