"""A copied warehouse is self-contained (catalog.duckdb with relative paths, `catalog refresh`), and the output
formats of `medcurate sql`: csv with \\n, jsonl, table cells cut unless --wide."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from curation.cli import app
from curation.warehouse import Warehouse, refresh_catalog, start_run
from tests.factories import doc_row, write_documents

runner = CliRunner()


def _invoke(root, *args):
    return runner.invoke(app, ["--warehouse", str(root), *args])


def test_copied_warehouse_is_self_contained(wh, tmp_path, monkeypatch):
    write_documents(wh, [doc_row("pmc:PMC1", "alpha"), doc_row("pmc:PMC2", "beta")])
    with start_run(wh, "ingest", {}) as run:
        run.count("rows", 2)
    refresh_catalog(wh)
    copy = tmp_path / "elsewhere" / "copy"
    shutil.copytree(wh.root, copy)
    shutil.rmtree(wh.root)
    monkeypatch.chdir(tmp_path)

    res = _invoke(copy, "sql", "select count(*) as n from documents_current", "--format", "csv")
    assert res.exit_code == 0 and res.stdout == "n\n2\n", res.output

    query = "select (select count(*) from documents), (select count(*) from runs)"
    con = duckdb.connect(str(copy / "catalog.duckdb"), read_only=True, config={"file_search_path": str(copy)})
    assert con.execute(query).fetchall() == [(2, 1)]
    con.close()
    monkeypatch.chdir(copy)  # or with the warehouse as the working directory (the duckdb CLI's way)
    con = duckdb.connect("catalog.duckdb", read_only=True)
    assert con.execute(query).fetchall() == [(2, 1)]
    con.close()


def test_catalog_refresh_command(wh):
    write_documents(wh, [doc_row("pmc:PMC1", "alpha")])
    assert not wh.catalog_path.exists()
    res = _invoke(wh.root, "catalog", "refresh")
    assert res.exit_code == 0, res.output
    assert str(wh.catalog_path) in res.stdout.replace("\n", "")
    con = duckdb.connect(str(wh.catalog_path), read_only=True, config={"file_search_path": str(wh.root)})
    assert con.execute("select doc_id from documents").fetchall() == [("pmc:PMC1",)]
    assert not [p for p in wh.root.iterdir() if p.name.startswith(".catalog-")]


def test_catalog_refresh_refuses_a_non_warehouse(tmp_path):
    res = _invoke(tmp_path / "nope", "catalog", "refresh")
    assert res.exit_code == 2 and "no warehouse at" in res.output
    assert not (tmp_path / "nope").exists()


def _two_docs(wh) -> Warehouse:
    long_text = 'first line\r\nsecond, "quoted" line\n' + "x" * 500
    write_documents(wh, [doc_row("pmc:PMC1", long_text), doc_row("pmc:PMC2", "short")])
    return wh


def test_csv_has_lf_line_endings(wh):
    res = _invoke(_two_docs(wh).root, "sql", "select doc_id, text from documents order by 1", "--format", "csv")
    assert res.exit_code == 0, res.output
    data = res.stdout_bytes
    assert data.startswith(b'doc_id,text\npmc:PMC1,"first line\r\nsecond, ""quoted"" line\n')
    assert data.endswith(b"\npmc:PMC2,short\n") and data.count(b"\r") == 1  # only the one inside the value


def test_jsonl(wh):
    res = _invoke(
        _two_docs(wh).root, "sql", "select doc_id, version, text from documents order by 1", "--format", "jsonl"
    )
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert [(r["doc_id"], r["version"]) for r in rows] == [("pmc:PMC1", 1), ("pmc:PMC2", 1)]
    assert rows[0]["text"].endswith("x" * 500)


def test_table_cuts_long_cells_unless_wide(wh):
    _two_docs(wh)
    q = "select doc_id, text from documents order by 1"
    res = _invoke(wh.root, "sql", q)
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert len(lines) <= 7 and "…" in res.stdout and "x" * 100 not in res.stdout
    assert "first line⏎second" in res.stdout
    res = _invoke(wh.root, "sql", q, "--wide")
    assert res.exit_code == 0, res.output
    assert res.stdout.replace("│", "").replace(" ", "").replace("\n", "").count("x") >= 500


def test_duckdb_cli_opens_the_catalog(wh, tmp_path):
    cli = shutil.which("duckdb") or shutil.which("duckdb", path=str(Path(sys.executable).parent))
    if cli is None:
        pytest.skip("the duckdb CLI (PyPI duckdb-cli) is not installed")
    write_documents(wh, [doc_row("pmc:PMC1", "alpha")])
    refresh_catalog(wh)
    res = subprocess.run(
        [cli, "-readonly", "-csv", "catalog.duckdb", "-c", "select count(*) as n from documents_current"],
        cwd=wh.root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["n", "1"]
