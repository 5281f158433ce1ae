"""The demo manifest builds end to end through the build flow; counts match data/demo/README.md."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import prefect.main  # noqa: F401  Prefect log handlers bound to the real stderr before CliRunner swaps it
import pytest
import yaml

from curation.warehouse import Warehouse, connect

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "manifests" / "demo.yaml"
DOC_FORMATS = {"pubmed": "curation.ingest.pubmed", "pmc": "curation.ingest.pmc"}


def _available(fmt: str) -> bool:
    return fmt not in DOC_FORMATS or importlib.util.find_spec(DOC_FORMATS[fmt]) is not None


def _runnable_manifest(tmp_path: Path) -> tuple[Path, set[str]]:
    """The demo manifest, minus document sources whose parser is not on this branch yet."""
    spec = yaml.safe_load(DEMO.read_text())
    formats = {s["format"] for s in spec["sources"]}
    if all(_available(f) for f in formats):
        return DEMO, formats
    spec["sources"] = [s for s in spec["sources"] if _available(s["format"])]
    for s in spec["sources"]:
        s["paths"] = [str((DEMO.parent / p).resolve()) for p in s["paths"]]
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path, {s["format"] for s in spec["sources"]}


@pytest.fixture(scope="module")
def demo_build(tmp_path_factory, prefect_harness):
    from flows.build import build_flow

    tmp = tmp_path_factory.mktemp("demo")
    manifest, formats = _runnable_manifest(tmp)
    wh = Warehouse(tmp / "warehouse")
    summaries = build_flow(manifest_path=str(manifest), warehouse=str(wh.root))
    return wh, summaries, formats


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
    assert con.execute("select pmid from benchmark_items where benchmark='pubmedqa' and pmid like '9000%'").fetchall() == [
        ("90000009",)
    ]
    bad = con.execute(
        "select reason, source_ref from quarantine where source_ref like '%medmcqa_train.jsonl%'"
    ).fetchall()
    assert bad == [("answer_out_of_range", f"{(ROOT / 'data/demo/benchmarks/medmcqa_train.jsonl').resolve()}:5")]
    gold = con.execute(
        "select answer, answer_text from benchmark_items where question like 'Koplik spots%'"
    ).fetchone()
    assert gold == ("D", "Measles")  # cop 4, 1-based


def test_demo_documents(demo_build):
    wh, _, formats = demo_build
    pytest.importorskip("curation.ingest.pubmed")
    pytest.importorskip("curation.ingest.pmc")
    assert {"pubmed", "pmc"} <= formats
    con = connect(wh)
    assert con.execute("select count(*) from documents where source='pubmed'").fetchone()[0] == 38
    current = dict(con.execute("select source, count(*) from documents_current group by 1").fetchall())
    assert current == {"pubmed": 35, "pmc": 2}
    latest = {r[0]: r[1:] for r in con.execute(
        "select doc_id, is_current, is_deleted, superseded_by from documents_latest where source='pubmed'"
    ).fetchall()}
    assert latest["pubmed:90000012"][1] is True
    assert latest["pubmed:90000007"] == (False, False, "pubmed:90000007.2")
    assert "pubmed:90000099" not in latest
    licences = dict(con.execute("select source_id, license from documents where source='pmc'").fetchall())
    assert sorted(licences.values()) == ["CC-BY-4.0", "CC-BY-NC-4.0"]


def test_build_cli_prints_what_it_built(tmp_path, prefect_harness):
    from typer.testing import CliRunner

    from curation.cli import app

    manifest, _ = _runnable_manifest(tmp_path)
    res = CliRunner().invoke(app, ["--warehouse", str(tmp_path / "wh"), "build", str(manifest)])
    assert res.exit_code == 0, res.output
    assert "benchmark_items" in res.output and 'medcurate sql "' in res.output
