"""Validation: suites, Great Expectations runs (batched), DuckDB whole-table checks, types, row rules, the flow."""

from __future__ import annotations

import json

import duckdb
import pyarrow as pa
import pytest

from curation.validate import validate_rows, validate_table
from curation.validate.suites import all_suites, load_suite
from curation.warehouse import Quarantine, connect
from curation.warehouse.schemas import all_schemas, load_schema
from tests.factories import doc_row, item_row, write_documents, write_items


def docs(n: int, **kw):
    return [doc_row(f"pubmed:{i}", f"Abstract number {i} about medicine.", pmid=str(i), **kw) for i in range(1, n + 1)]


def test_every_table_has_a_suite_and_ge_accepts_it(tmp_path):
    from curation.resources import schemas_dir
    from curation.validate.runner import _GXRunner

    suites = all_suites()
    assert set(all_schemas(schemas_dir())) <= set(suites)  # medcurate's own tables (a plugin may ship none)
    for t in (
        "annotations_dedup",
        "annotations_clean",
        "annotations_perplexity",
        "annotations_edu",
        "passages",
        "synthetic_grounded_qa",
        "synthetic_mcq_cot",
        "synthetic_dialogue",
    ):
        assert t in suites
    for s in suites.values():  # GE validates each expectation's type and kwargs when the suite is built
        _GXRunner(s.table, s.batch_expectations(), list(s.key))


def test_structural_expectations_come_from_the_table_schema():
    s = load_suite("documents")
    types = {e["type"] for e in s.all_expectations()}
    assert {
        "expect_table_columns_to_match_set",
        "expect_column_values_to_not_be_null",
        "expect_compound_columns_to_be_unique",
    } <= types
    not_null = {e["kwargs"]["column"] for e in s.structural() if e["type"] == "expect_column_values_to_not_be_null"}
    assert not_null == set(all_schemas()["documents"].required())


def test_clean_table_passes_and_writes_reports(wh):
    write_documents(wh, docs(5))
    r = validate_table(wh, "documents", run_id="r1")
    assert r.success, r.explain()
    assert r.rows == 5 and not r.failing_rows
    engines = {x["engine"] for x in r.results}
    assert engines == {"great_expectations", "duckdb", "arrow"}
    out = wh.root / "validation" / "r1" / "documents"
    assert json.loads((out / "validation.json").read_text())["success"] is True
    assert json.loads((out / "ge_results.jsonl").read_text().splitlines()[0])["success"] is True
    site = wh.root / "validation" / "data_docs"  # one site per warehouse
    assert r.artifacts["data_docs"] == str(site / "index.html") and (site / "index.html").is_file()
    assert any((site / "validations" / "documents" / "r1").rglob("*.html"))


def test_bad_value_fails_with_a_clear_report(wh):
    write_documents(wh, [*docs(3), doc_row("pubmed:9", "text", license="All rights reserved")])
    r = validate_table(wh, "documents", run_id="r2")
    assert not r.success
    [f] = r.failed()
    assert (f["expectation_type"], f["column"], f["observed"], f["unexpected_count"]) == (
        "expect_column_values_to_match_regex",
        "license",
        ["All rights reserved"],
        1,
    )
    assert "FAILED expect_column_values_to_match_regex on column 'license'" in r.explain()
    assert r.failing_rows == ["pubmed:9|/data/pubmed.xml|0"]


def test_duplicate_keys_found_across_batches(wh):
    write_documents(wh, docs(300), unit="a")
    write_documents(wh, docs(1), unit="b")  # same doc_id, same source_file, same record_index 0
    r = validate_table(wh, "documents", run_id="r3", batch_rows=100, data_docs=False)
    assert r.batches == 4 and r.rows == 301
    [f] = r.failed()
    assert f["engine"] == "duckdb" and f["expectation_type"] == "expect_compound_columns_to_be_unique"
    assert f["unexpected_count"] == 2 and f["observed"] == [["pubmed:1", "/data/pubmed.xml", 0]]


def test_mostly_is_evaluated_on_totals_across_batches(wh):
    from curation.validate.runner import _finish_merge

    acc = {
        "0": {
            "kwargs": {"mostly": 0.9},
            "batches": 2,
            "element_count": 200,
            "_missing": 0,
            "unexpected_count": 15,
            "success": False,
            "exception": None,
        }
    }
    assert _finish_merge(acc)[0]["success"] is True  # 15/200 unexpected <= 10 %
    acc["0"].update(unexpected_count=25, _missing=0)
    assert _finish_merge(acc)[0]["success"] is False


def test_data_argument_types_and_missing_columns(wh):
    good = connect(wh).sql("SELECT * FROM benchmark_items").to_arrow_table()
    assert good.num_rows == 0
    r = validate_table(wh, "benchmark_items", data=good, run_id="r4")
    assert r.success and r.rows == 0
    bad = pa.table({"item_id": ["x"], "record_index": ["not an int"]})
    r = validate_table(wh, "benchmark_items", data=bad, run_id="r4", out_dir=wh.root / "elsewhere")
    assert not r.success
    failed = {(f["expectation_type"], f["column"]) for f in r.failed()}
    assert ("expect_column_values_to_be_of_type", "record_index") in failed
    assert ("expect_table_columns_to_match_set", None) in failed
    assert (wh.root / "elsewhere" / "validation.json").is_file()


def test_duckdb_connection_and_relation(wh):
    write_items(wh, [item_row("medqa:test:1", "Q?"), item_row("medqa:test:2", "Q2?", answer="E")])
    con = connect(wh)
    r = validate_table(con, "benchmark_items", data=con.sql("SELECT * FROM benchmark_items"))
    assert r.success and not r.artifacts  # a bare connection writes nothing
    assert r.failing_rows == ["medqa:test:2"]
    assert r.row_failures[0]["rule"] == "row_rule:mcq_answer_in_options"
    with pytest.raises(TypeError):
        validate_table(con, "benchmark_items", data=[1, 2])
    assert isinstance(con, duckdb.DuckDBPyConnection)


def test_missing_table_is_skipped(wh):
    r = validate_table(wh, "synthetic_dialogue", run_id="r5")
    assert r.success and r.skipped and "does not exist" in r.explain()


def test_row_rules():
    mcq = {"question": "q", "options": [{"label": "A", "text": "x"}, {"label": "B", "text": "y"}], "answer": "B"}
    good, bad = validate_rows(
        "benchmark_items", [mcq, {**mcq, "answer": "C"}, {**mcq, "options": None, "answer": "maybe"}]
    )
    assert len(good) == 2 and bad[0][1][0].reason == "mcq_answer_in_options"
    cot = {**mcq, "item_id": "i", "gold_answer": "B", "final_answer": "A"}
    _, bad = validate_rows("synthetic_mcq_cot", [cot])
    assert {v.reason for v in bad[0][1]} == {"mcq_final_answer_is_gold"}
    turns = [{"role": "patient", "text": "I feel ill"}, {"role": "doctor", "text": "Since when?"}]
    good, bad = validate_rows(
        "synthetic_dialogue",
        [
            {"turns": turns},
            {"turns": [turns[0], turns[0]]},
            {"turns": turns[:1]},
            {"turns": [turns[0], {"role": "doctor", "text": " "}]},
        ],
    )
    assert len(good) == 1 and [b[1][0].detail.split()[0] for b in bad] == ["turns", "1", "turn"]
    good, bad = validate_rows(
        "synthetic_grounded_qa", [{"question": "q?", "answer": "a"}, {"question": "q?", "answer": "  "}]
    )
    assert len(good) == 1 and bad[0][1][0].reason == "non_empty_answer"
    _, bad = validate_rows("documents", [{"text": "t", "license": "CC-BY-NC-4.0", "commercial_use": True}])
    assert bad[0][1][0].reason == "commercial_use_matches_licence"


def test_synthetic_table_via_data_and_quarantine(wh):
    base = {
        "passage_id": "pubmed:1#0",
        "doc_id": "pubmed:1",
        "n_turns": 2,
        "grounding_score": 0.5,
        "model": "m",
        "model_fingerprint": "sha256:m",
        "gate_passed": True,
        "gate": "{}",
        "prompt_id": "dialogue",
        "prompt_version": "1",
        "sampling": "{}",
        "judge": "{}",
        "sample_index": 0,
        "n_prompt_tokens": 10,
        "n_output_tokens": 10,
        "cached": False,
        "run_id": "x",
    }
    rows = pa.Table.from_pylist(
        [
            {**base, "record_id": "r1", "turns": [{"role": "patient", "text": "a"}, {"role": "doctor", "text": "b"}]},
            {**base, "record_id": "r2", "turns": [{"role": "patient", "text": "a"}]},
        ],
        schema=load_schema("synthetic_dialogue").arrow,
    )
    q = Quarantine(wh, "validate", "run-q")
    r = validate_table(wh, "synthetic_dialogue", data=rows, run_id="run-q", quarantine=q)
    q.commit()
    assert r.success, r.explain()
    assert r.failing_rows == ["r2"] and r.rules_applied == ["dialogue_roles_alternate"]
    got = connect(wh).execute("SELECT reason, source_ref FROM quarantine").fetchall()
    assert got == [("row_rule:dialogue_roles_alternate", "synthetic_dialogue:r2")]


def _manifest(tmp_path, body: str = "") -> str:
    p = tmp_path / "m.yaml"
    p.write_text(f"name: t\nstages: [validate]\n{body}")
    return str(p)


def test_validate_flow_quarantines_and_fails(wh, tmp_path, prefect_harness):
    from curation.errors import ValidationFailed
    from curation.flows.stages import stage_flow
    from curation.orchestrate.runner import StageFailed

    write_documents(wh, [*docs(2), doc_row("pubmed:7", "  ")])
    write_items(wh, [item_row("medqa:test:1", "Q?")])
    m = _manifest(tmp_path, "validate:\n  tables: [documents, benchmark_items, synthetic_mcq_cot]\n")
    s = stage_flow("validate")(m, str(wh.root))
    assert s["failed"] == [] and s["skipped"] == ["synthetic_mcq_cot"] and s["failing_rows"] == 1
    con = connect(wh)
    assert con.execute("SELECT reason FROM quarantine WHERE stage = 'validate'").fetchall() == [
        ("row_rule:non_empty_text",)
    ]
    extra = con.execute("SELECT extra->'validation'->'documents'->>'success' FROM runs").fetchone()[0]
    assert extra == "true"
    write_documents(wh, [doc_row("pubmed:8", "t", license="weird")], unit="bad")
    with pytest.raises(StageFailed, match="license") as failed:
        stage_flow("validate")(m, str(wh.root))
    assert isinstance(failed.value.cause, ValidationFailed)
    status = connect(wh).execute("SELECT status FROM runs WHERE stage='validate' ORDER BY run_id").fetchall()
    assert status == [("completed",), ("failed",)]


def test_cli_validate(wh, tmp_path, prefect_harness):
    from tests.cli_helpers import invoke_cli

    write_documents(wh, docs(2))
    m = _manifest(tmp_path)
    r = invoke_cli("--warehouse", str(wh.root), "validate", m, "--table", "documents")
    assert r.exit_code == 0, r.output
    assert "failed none" in r.output
    r = invoke_cli("--warehouse", str(wh.root), "validate", m, "--table", "nope")
    assert r.exit_code == 2 and "no expectation suite" in r.output
    write_documents(wh, [doc_row("pubmed:8", "t", license="weird")], unit="bad")
    r = invoke_cli("--warehouse", str(wh.root), "validate", m, "--table", "documents")
    assert r.exit_code == 1 and "validation failed" in r.output and "license" in r.output


def test_rechunk_gives_fixed_size_tables():
    from curation.batches import rechunk

    batches = [pa.record_batch({"x": list(range(i, i + n))}) for i, n in ((0, 7), (7, 0), (7, 12), (19, 3))]
    tables = list(rechunk(batches, 5))
    assert [t.num_rows for t in tables] == [5, 5, 5, 5, 2]
    assert [x for t in tables for x in t.column("x").to_pylist()] == list(range(22))


def test_real_medqa_items_pass_their_suite(wh, shared_data):
    from curation.ingest.config import IngestConfig
    from curation.ingest.ledger import Ledger
    from curation.ingest.runner import IngestJob, ingest_file

    path = next((shared_data / "medqa_usmle").glob("*.jsonl"))
    res = ingest_file(wh, IngestJob(str(path), "medqa", "medqa", "test", {}), "run-i", Ledger(wh), IngestConfig())
    assert res.rows == 100
    r = validate_table(wh, "benchmark_items", run_id="v", data_docs=False)
    assert r.success and r.rows == 100 and not r.failing_rows, r.explain()
