"""Components from another installed package (tests/plugin_example, installed by scripts/setup.sh): a format, a
scorer, a synth task and a stage, each one module registered through an entry point, with no edit to medcurate;
their outputs land in the warehouse and the catalog."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version

import pytest

from curation.components import registries
from curation.orchestrate.runner import run_stage
from curation.warehouse import connect

try:
    version("medcurate-example-plugin")
except PackageNotFoundError:  # pragma: no cover - setup.sh installs it with the dev extras
    pytest.skip("tests/plugin_example is not installed (scripts/setup.sh installs it)", allow_module_level=True)

ORIGIN = "medcurate-example-plugin"


def _kvtext(tmp_path):
    src = tmp_path / "notes.kv"
    src.write_text(
        "a1\tAspirin\tAspirin lowers the risk of a second myocardial infarction in adults.\n"
        "a2\tMetformin\tMetformin is the first line drug for type 2 diabetes in most guidelines.\n"
        "broken line without tabs\n"
    )
    return src


def test_plugins_are_registered_with_their_origin():
    regs = registries()
    for kind, name in [("formats", "kvtext"), ("scorers", "wordcount"), ("tasks", "keywords"), ("stages", "tally")]:
        assert name in regs[kind].names()
        assert regs[kind].origin(name).startswith(ORIGIN)
    assert regs["formats"].origin("pubmed") == "curation.ingest.pubmed"
    out = subprocess.run(
        [sys.executable, "-m", "curation.cli", "plugins"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "kvtext" in out.stdout and "tally" in out.stdout and ORIGIN in out.stdout


def test_plugin_format_scorer_and_stage_write_the_warehouse(wh, tmp_path):
    res = run_stage("ingest", wh, params={"paths": [str(_kvtext(tmp_path))], "format": "kvtext"})
    assert res.summary["rows"] == 2 and res.summary["quarantine_reasons"] == {"missing_field": 1}

    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "name: p\nstages: [score, tally]\nscore: {clean: {enabled: false}, "
        "perplexity: {enabled: false}, wordcount: {enabled: true, min_words: 13}}\n"
    )
    from curation.manifest import load_manifest

    m = load_manifest(manifest)
    score = run_stage("score", wh, m)
    assert score.summary["wordcount"]["scored"] == 2
    tally = run_stage("tally", wh, m)
    assert tally.summary["sources"] == 1
    con = connect(wh)
    assert con.execute("select doc_id, n_words, enough_words from documents_enriched order by 1").fetchall() == [
        ("kvtext:a1", 12, False),  # title + text
        ("kvtext:a2", 14, True),
    ]
    assert con.execute("select source, n_docs from tally_sources").fetchall() == [("kvtext", 2)]
    assert con.execute("select count(*) from quarantine where reason = 'missing_field'").fetchone()[0] == 1


def test_plugin_task_generates_into_its_table(wh, tmp_path, vllm_engine):
    from curation.synth.config import SynthConfig
    from tests.synth_helpers import seed_documents

    seed_documents(wh, 3)
    cfg = SynthConfig.model_validate(
        {
            "model": str(vllm_engine.model_dir),
            "tasks": ["keywords"],
            "cache": False,
            "sampling": {"max_tokens": 48, "temperature": 0.8},
            "passages": {"filters": [], "min_tokens": 4},
            "keywords": {"require_in_passage": False},
        }
    )
    res = run_stage("synth", wh, None, {}, config=cfg, engine=vllm_engine)
    t = res.summary["tasks"]["keywords"]
    assert t["inputs"] == 4 and t["rows"] + t["quarantined"] >= t["inputs"] - 1
    con = connect(wh)
    n = con.execute("select count(*) from synthetic_keywords").fetchone()[0]
    assert n == t["rows"]
    if n:
        model = con.execute("select distinct model from synthetic_keywords").fetchone()[0]
        assert model == res.record["models"]["generator"]["model"]


def test_a_broken_plugin_is_named_and_the_rest_still_work(monkeypatch):
    """An entry point whose module does not import: the registry says which, and every other component loads."""
    from importlib.metadata import EntryPoint

    import curation.registry as registry
    from curation.ingest.formats import FORMATS

    real = registry.entry_points
    broken = EntryPoint(name="broken", value="medcurate_no_such_plugin.fmt", group="medcurate.formats")
    monkeypatch.setattr(registry, "entry_points", lambda group: [*real(group=group), broken])
    monkeypatch.setattr(FORMATS, "_loaded", False)  # load the entry points again, with the broken one among them
    monkeypatch.setattr(FORMATS, "_errors", [])
    assert "pubmed" in FORMATS.names() and "kvtext" in FORMATS.names()
    [err] = FORMATS.errors()
    assert err.entry_point == "broken = medcurate_no_such_plugin.fmt" and "No module named" in err.message
