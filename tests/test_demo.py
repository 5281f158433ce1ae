"""The demo manifest builds end to end through the build flow; counts match data/demo/README.md."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import prefect.main  # noqa: F401  Prefect log handlers bound to the real stderr before CliRunner swaps it
import pytest
import yaml

from curation.warehouse import Warehouse, connect

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "manifests" / "demo.yaml"


def demo_manifest(tmp: Path, stages: list[str] | None = None) -> Path:
    """The demo manifest with absolute source paths, a tiny generator and teacher (plumbing only: the real
    SmolLM2 runs in tests/test_synth_smollm2.py) and the release built under `tmp`."""
    from curation.synth.tiny_model import make_tiny_model

    spec = yaml.safe_load(DEMO.read_text())
    for s in spec["sources"]:
        s["paths"] = [str((DEMO.parent / p).resolve()) for p in s["paths"]]
    spec["synth"]["model"] = str(make_tiny_model(tmp / "tiny-synth"))
    spec["score"]["edu"]["teacher"]["model"] = spec["synth"]["model"]
    spec["release"]["out"] = str(tmp / "release")
    if stages:
        spec["stages"] = stages
    path = tmp / "demo.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def demo_build(tmp_path_factory, prefect_harness):
    """The whole demo, every stage, once for this module."""
    from curation.flows.build import build_flow

    tmp = tmp_path_factory.mktemp("demo")
    wh = Warehouse(tmp / "warehouse")
    summaries = build_flow(manifest_path=str(demo_manifest(tmp)), warehouse=str(wh.root))
    return wh, summaries, tmp


def test_demo_corpus_is_small_and_invented():
    files = [p for p in (ROOT / "data" / "demo").rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 300_000
    assert "invented" in (ROOT / "data" / "demo" / "README.md").read_text()


def test_demo_benchmark_items_exact(demo_build):
    wh, summaries, _ = demo_build
    assert summaries["ingest"]["status"] == "ran" and summaries["ingest"]["summary"]["files_failed"] == 0
    con = connect(wh)
    counts = dict(
        ((b, s), n)
        for b, s, n in con.execute("select benchmark, split, count(*) from benchmark_items group by all").fetchall()
    )
    assert counts == {
        ("medqa", "train"): 3,
        ("medqa", "test"): 3,
        ("medmcqa", "train"): 4,
        ("medmcqa", "dev"): 3,
        ("pubmedqa", "train"): 2,
        ("pubmedqa", "test"): 3,
        ("mmlu", "dev"): 2,
        ("mmlu", "test"): 5,
    }
    assert con.execute("select count(distinct item_id) from benchmark_items").fetchone()[0] == 25
    # the planted contamination: a PubMedQA test item whose PMID is a demo PubMed record
    assert con.execute(
        "select pmid from benchmark_items where benchmark='pubmedqa' and pmid like '9000%'"
    ).fetchall() == [("90000009",)]
    bad = con.execute(
        "select reason, source_ref from quarantine where source_ref like '%medmcqa_train.jsonl%'"
    ).fetchall()
    assert bad == [("answer_out_of_range", f"{(ROOT / 'data/demo/benchmarks/medmcqa_train.jsonl').resolve()}:5")]
    gold = con.execute("select answer, answer_text from benchmark_items where question like 'Koplik spots%'").fetchone()
    assert gold == ("D", "Measles")  # cop 4, 1-based


def test_demo_documents(demo_build):
    wh, _, _ = demo_build
    con = connect(wh)
    assert con.execute("select count(*) from documents where source='pubmed'").fetchone()[0] == 38
    current = dict(con.execute("select source, count(*) from documents_current group by 1").fetchall())
    assert current == {"pubmed": 35, "pmc": 2}
    latest = {
        r[0]: r[1:]
        for r in con.execute(
            "select doc_id, is_current, is_deleted, superseded_by from documents_latest where source='pubmed'"
        ).fetchall()
    }
    assert latest["pubmed:90000012"][1] is True
    assert latest["pubmed:90000007"] == (False, False, "pubmed:90000007.2")
    assert "pubmed:90000099" not in latest
    licences = dict(con.execute("select source_id, license from documents where source='pmc'").fetchall())
    assert sorted(licences.values()) == ["CC-BY-4.0", "CC-BY-NC-4.0"]


def test_demo_every_stage_ran_and_did_its_planted_work(demo_build):
    from curation.release.verify import verify

    wh, summaries, _ = demo_build
    assert {s: r["status"] for s, r in summaries.items()} == dict.fromkeys(
        ["ingest", "dedup", "score", "decontam", "synth", "validate", "release"], "ran"
    )
    con = connect(wh)
    # dedup: the planted near-duplicate in the update file is marked, and it points at the kept record
    dups = con.execute("select doc_id, dup_of from documents_enriched where is_duplicate").fetchall()
    assert dups and all(kept for _, kept in dups)
    # score: every current document has heuristics and a perplexity under the reference LM trained offline
    n_current = con.execute("select count(*) from documents_current").fetchone()[0]
    scored = con.execute(
        "select count(heuristic_pass), count(ppl) from documents_enriched where is_current and not is_deleted"
    ).fetchone()
    assert scored == (n_current, n_current)
    # decontam: the PubMed record whose PMID is a PubMedQA test item
    assert con.execute("select doc_id, contam_rule from documents_enriched where contaminated").fetchall() == [
        ("pubmed:90000009", "pmid")
    ]
    # synth: every generated row was checked for contamination; failures are in quarantine, not nulls
    assert con.execute("select count(*) from synthetic_mcq_cot_checked where contaminated is null").fetchone() == (0,)
    assert con.execute("select count(*) from quarantine where stage = 'synth'").fetchone()[0] > 0
    # release: never a duplicate, contaminated or non-commercial row where it must not be; verify passes
    release = Path(summaries["release"]["summary"]["path"])
    assert verify(release) == []
    rel = connect(wh)
    rel.execute(
        f"create view released as select * from read_parquet('{release}/data/documents/*/*.parquet', filename=true)"
    )
    assert rel.execute("select count(*) from released where doc_id = 'pubmed:90000009'").fetchone() == (0,)
    assert rel.execute(
        "select count(*) from released where doc_id in (select doc_id from documents_enriched where is_duplicate)"
    ).fetchone() == (0,)
    assert rel.execute(
        "select count(*) from released where filename like '%/commercial/%' and not commercial_use"
    ).fetchone() == (0,)


def _absolute_paths(release: Path, tmp: Path, files) -> dict[str, list[str]]:
    needles = [str(tmp), str(ROOT), str(Path.home()), "/tmp/"]
    found = {}
    for f in files:
        data = f.read_bytes()
        if f.suffix == ".parquet":
            data = json.dumps(duckdb.sql(f"select * from read_parquet('{f}')").fetchall(), default=str).encode()
        if hits := [n for n in needles if n.encode() in data]:
            found[str(f.relative_to(release))] = hits
    return found


def test_demo_release_data_holds_no_absolute_path_and_no_ungated_synthetic_row(demo_build):
    """Model ids are public ids or local:<name>, never a path; the tiny random model's output never passes the gate."""
    wh, summaries, tmp = demo_build
    release = Path(summaries["release"]["summary"]["path"])
    assert _absolute_paths(release, tmp, [f for f in (release / "data").rglob("*") if f.is_file()]) == {}
    con = connect(wh)
    for table in ("synthetic_grounded_qa", "synthetic_mcq_cot", "synthetic_dialogue"):
        assert con.execute(f"select count(*) from {table}").fetchone() == (0,)
    assert not list((release / "data").glob("mcq_cot/**/*.parquet"))


def test_demo_release_files_hold_no_absolute_path(demo_build):
    """Every file of the release: manifest.json, the card, validation reports, data."""
    _wh, summaries, tmp = demo_build
    release = Path(summaries["release"]["summary"]["path"])
    assert _absolute_paths(release, tmp, [f for f in release.rglob("*") if f.is_file()]) == {}


def test_build_cli_prints_what_it_built(tmp_path, prefect_harness):
    from typer.testing import CliRunner

    from curation.cli import app

    manifest = demo_manifest(tmp_path, stages=["ingest"])
    res = CliRunner().invoke(app, ["--warehouse", str(tmp_path / "wh"), "build", str(manifest)])
    assert res.exit_code == 0, res.output
    assert "benchmark_items" in res.output and 'medcurate sql "' in res.output
