"""`medcurate ingest --format F [--split S] [-o key=value] PATH...` end to end, and its clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import prefect.main  # noqa: F401  configures Prefect's log handlers now, on the real stderr: CliRunner swaps and closes its own
import pytest
from typer.testing import CliRunner

from curation.cli import app
from curation.warehouse import Warehouse, connect

BENCH = Path(__file__).resolve().parents[1] / "data" / "demo" / "benchmarks"


def _run(wh: Path, *args: str):
    return CliRunner().invoke(app, ["--warehouse", str(wh), "ingest", *args])


def test_ad_hoc_ingest_end_to_end(tmp_path, prefect_harness):
    wh = tmp_path / "wh"
    res = _run(wh, "--format", "medmcqa", "-o", "cop_base=1", str(BENCH / "medmcqa_dev.jsonl"),
               str(BENCH / "medmcqa_train.jsonl"))  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "2 files ingested" in res.output and "7 rows" in res.output and "1 quarantined" in res.output
    con = connect(Warehouse(wh))
    assert con.execute("select split, count(*) from benchmark_items group by 1 order by 1").fetchall() == [
        ("dev", 3), ("train", 4),
    ]  # fmt: skip
    assert con.execute("select stage, status from runs").fetchall() == [("ingest", "completed")]
    again = _run(wh, "--format", "medmcqa", "-o", "cop_base=1", str(BENCH / "medmcqa_dev.jsonl"))
    assert again.exit_code == 0 and "1 skipped" in again.output


def test_split_option_and_tabular_mapping(tmp_path, prefect_harness):
    wh = tmp_path / "wh"
    res = _run(wh, "--format", "pubmedqa", "--split", "validation", str(BENCH / "pubmedqa_train.json"))
    assert res.exit_code == 0, res.output
    docs = tmp_path / "docs.jsonl"
    docs.write_text(json.dumps({"id": 1, "body": "some text", "lic": "CC-BY-4.0"}) + "\n")
    fields = json.dumps({"source_id": "id", "text": "body", "license": "lic"})
    res = _run(wh, "--format", "jsonl", "-o", f"fields={fields}", "-o", 'constants={"source": "mine"}', str(docs))
    assert res.exit_code == 0, res.output
    con = connect(Warehouse(wh))
    assert con.execute("select distinct split from benchmark_items").fetchall() == [("validation",)]
    assert con.execute("select doc_id, license, commercial_use from documents").fetchall() == [
        ("mine:1", "CC-BY-4.0", True)
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "medqa", "/no/such/file.jsonl"], "no such file: /no/such/file.jsonl"),
        (["--format", "docx", str(BENCH / "medqa_test.jsonl")], "unknown format 'docx'"),
        (["--format", "medqa", "-o", "colour=red", str(BENCH / "medqa_test.jsonl")], "colour: unknown key"),
        (["--format", "medmcqa", str(BENCH / "medmcqa_dev.jsonl")], "cop_base: Field required"),
        (["--format", "medmcqa", "-o", "cop_base=2", str(BENCH / "medmcqa_dev.jsonl")], "cop_base"),
        (["--format", "medqa", "-o", "split", str(BENCH / "medqa_test.jsonl")], "KEY=VALUE"),
        ([str(BENCH / "medqa_test.jsonl")], "ad hoc ingest needs --format"),
        ([], "give a manifest"),
    ],
)
@pytest.mark.hostile("ingest config errors", ok="clear_error", bad="crash")
def test_clear_errors(tmp_path, args, message):
    res = _run(tmp_path / "wh", *args)
    assert res.exit_code == 2, res.output
    assert message in " ".join(res.output.split()) and "Traceback" not in res.output
    assert not (tmp_path / "wh" / "runs").exists()  # nothing ran


def test_changed_options_reingest_and_retire_the_old_unit(tmp_path):
    """The ledger keys a unit on content + format + options + split: same file, new split → new unit, old retired."""
    from curation.ingest.ledger import Ledger
    from curation.ingest.runner import IngestJob, ingest_file
    from curation.warehouse import Warehouse, connect

    src = tmp_path / "q.jsonl"
    src.write_text('{"question": "Q?", "options": {"A": "a", "B": "b"}, "answer_idx": "A"}\n')
    wh = Warehouse(tmp_path / "wh").ensure()
    first = ingest_file(wh, IngestJob(str(src), "medqa", "m", "train"), "r1", Ledger(wh))
    again = ingest_file(wh, IngestJob(str(src), "medqa", "m", "train"), "r2", Ledger(wh))
    assert (first.status, again.status) == ("ingested", "skipped")
    moved = ingest_file(wh, IngestJob(str(src), "medqa", "m", "test"), "r3", Ledger(wh))
    assert moved.status == "ingested" and moved.retired_units == [first.unit]
    assert connect(wh).execute("select split, count(*) from benchmark_items group by 1").fetchall() == [("test", 1)]
