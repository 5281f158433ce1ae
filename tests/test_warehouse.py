"""Warehouse core: atomic units, schema enforcement, quarantine bounds, run records, catalog views."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from curation.warehouse import Quarantine, ShardWriter, connect, refresh_catalog, start_run
from curation.warehouse.catalog import read_only_statement
from curation.warehouse.quarantine import bound_payload
from curation.warehouse.runs import load_run


def _doc(i: int, **kw):
    base = {
        "doc_id": f"t:{i}",
        "work_id": f"t:{i}",
        "source": "t",
        "source_id": str(i),
        "version": 1,
        "text": f"text {i}",
        "license": "CC0-1.0",
        "commercial_use": True,
        "content_sha256": "x",
        "source_file": "/f.jsonl",
        "source_file_sha256": "s",
        "record_index": i,
        "source_ref": f"/f.jsonl:{i}",
        "run_id": "r1",
        "meta": {"k": i},
    }
    return base | kw


def test_shard_writer_rolls_parts_and_publishes_atomically(wh):
    w = ShardWriter(wh, "documents", "u1", target_rows=3)
    for i in range(7):
        w.write(_doc(i))
    assert wh.units("documents") == []  # nothing visible before commit
    stats = w.commit()
    assert stats.rows == 7 and stats.files == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    files = wh.files("documents")
    assert [pq.read_metadata(f).num_rows for f in files] == [3, 3, 1]
    assert pq.read_metadata(files[0]).row_group(0).column(0).compression == "ZSTD"
    row = pq.read_table(files[0]).to_pylist()[0]
    assert json.loads(row["meta"]) == {"k": 0}


def test_aborted_writer_leaves_nothing(wh):
    with pytest.raises(RuntimeError), ShardWriter(wh, "documents", "u2") as w:
        w.write(_doc(1))
        w._flush()
        raise RuntimeError("crash")
    assert wh.units("documents") == []
    assert not list(wh.table_dir("documents").glob(".tmp-*"))


def test_unknown_column_and_missing_required_are_errors(wh):
    w = ShardWriter(wh, "documents", "u3")
    with pytest.raises(KeyError, match="no columns"):
        w.write(_doc(1, titel="typo"))
    w.write(_doc(2, text=None))
    with pytest.raises(ValueError, match="required column 'text'"):
        w.commit()


def test_republish_replaces_unit(wh):
    with ShardWriter(wh, "documents", "u") as w:
        w.write_many([_doc(1), _doc(2)])
    with ShardWriter(wh, "documents", "u") as w:
        w.write(_doc(3))
    assert connect(wh).execute("select list(doc_id) from documents").fetchone()[0] == ["t:3"]


def test_quarantine_bounds_payload_and_counts_reasons(wh):
    text, size = bound_payload("é" * 100_000, limit=1000)
    assert size == 200_000 and len(text.encode()) < 1100 and "truncated" in text
    with Quarantine(wh, "ingest", "r1") as q:
        q.add("bad", "f:1", b"\xff\xfe raw", "why")
        q.add("bad", "f:2", "x")
        q.add("worse", "f:3")
    assert q.reasons == {"bad": 2, "worse": 1}
    rows = connect(wh).execute("select reason, n, source_ref from quarantine order by n").fetchall()
    assert rows == [("bad", 0, "f:1"), ("bad", 1, "f:2"), ("worse", 2, "f:3")]


def test_run_record_saved_on_success_and_failure(wh):
    with start_run(wh, "ingest", {"a": 1}) as run:
        run.add_input("/x", "abc")
        run.count("rows", 5)
    rec = load_run(wh, run.run_id)
    assert rec["status"] == "completed" and rec["counts"] == {"rows": 5} and rec["inputs"][0]["sha256"] == "abc"
    with pytest.raises(ZeroDivisionError), start_run(wh, "dedup") as run2:
        raise ZeroDivisionError("boom")
    rec2 = load_run(wh, run2.run_id)
    assert rec2["status"] == "failed" and "ZeroDivisionError" in rec2["errors"][0]["message"]
    con = connect(wh)
    assert con.execute("select stage, status from runs order by run_id").fetchall() == [
        ("ingest", "completed"),
        ("dedup", "failed"),
    ]


def test_catalog_views_exist_when_empty_and_file_is_refreshed(wh):
    con = connect(wh)
    assert con.execute("select count(*) from documents_enriched").fetchone() == (0,)
    assert con.execute("select count(*) from benchmark_items").fetchone() == (0,)
    path = refresh_catalog(wh)
    import duckdb

    ro = duckdb.connect(str(path), read_only=True)
    assert ro.execute("select count(*) from documents_current").fetchone() == (0,)


def test_latest_view_marks_superseded_and_deleted(wh):
    with ShardWriter(wh, "documents", "a") as w:
        w.write(_doc(1, doc_id="pubmed:1", work_id="pubmed:1", source_file="/d/pubmed26n0001.xml", text="old"))
        w.write(_doc(2, doc_id="pubmed:2", work_id="pubmed:2", source_file="/d/pubmed26n0001.xml"))
        w.write(_doc(3, doc_id="pubmed:3", work_id="pubmed:3", source_file="/d/pubmed26n0001.xml"))
    with ShardWriter(wh, "documents", "b") as w:
        w.write(_doc(0, doc_id="pubmed:1", work_id="pubmed:1", source_file="/d/pubmed26n0002.xml", text="revised"))
        w.write(_doc(1, doc_id="pubmed:2.2", work_id="pubmed:2", version=2, source_file="/d/pubmed26n0002.xml"))
    with ShardWriter(wh, "deletions", "b") as w:
        w.write(
            {
                "work_id": "pubmed:3",
                "source": "pubmed",
                "source_id": "3",
                "source_file": "/d/pubmed26n0002.xml",
                "source_file_sha256": "s",
                "record_index": 9,
                "run_id": "r",
            }
        )
    con = connect(wh)
    rows = con.execute(
        "select doc_id, text, is_current, is_deleted, superseded_by, n_occurrences from documents_latest order by 1"
    ).fetchall()
    assert rows == [
        ("pubmed:1", "revised", True, False, None, 2),
        ("pubmed:2", "text 2", False, False, "pubmed:2.2", 1),
        ("pubmed:2.2", "text 1", True, False, None, 1),
        ("pubmed:3", "text 3", True, True, None, 1),
    ]
    assert [r[0] for r in con.execute("select doc_id from documents_current order by 1").fetchall()] == [
        "pubmed:1",
        "pubmed:2.2",
    ]


def test_read_only_sql_refuses_writes():
    assert read_only_statement("with a as (select 1) select * from a;").type.name == "SELECT"
    for q in (
        "select 1; select 2",
        "explain select 2",
        "copy (select 1) to '/tmp/x.csv'",
        "create table t as select 1",
        "attach 'x.db'",
        "set threads=1",
        "pragma version",
        "install httpfs",
        "load httpfs",
        "",
    ):
        with pytest.raises(PermissionError):
            read_only_statement(q)
