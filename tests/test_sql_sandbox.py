"""`medcurate sql` read-only mode: one query, classified by DuckDB's parser, on a connection that reaches only the
warehouse's files (the attacks of issue 16 item 1); and a warehouse that must exist."""

from __future__ import annotations

import duckdb
import pytest
from typer.testing import CliRunner

from curation.cli import app
from curation.warehouse import start_run
from curation.warehouse.catalog import connect_sandboxed
from tests.factories import doc_row, write_documents

runner = CliRunner()


def _sql(wh, *args):
    return runner.invoke(app, ["--warehouse", str(wh.root), "sql", *args])


@pytest.fixture
def docs_wh(wh, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # relative paths in an attack would land here
    write_documents(wh, [doc_row("pmc:PMC1", "alpha"), doc_row("pmc:PMC2", "beta")])
    with start_run(wh, "ingest", {}) as run:
        run.count("rows", 2)
    return wh


def _count(wh) -> int:
    return duckdb.connect().execute(f"select count(*) from read_parquet('{wh.glob('documents')}')").fetchone()[0]


def test_normal_queries_still_answered(docs_wh):
    for q, expect in [
        ("select count(*) as n from documents_current", "2"),
        ("with d as (from documents) select doc_id from d order by 1 limit 1", "pmc:PMC1"),
        ("select stage, status from runs", "completed"),
        ("select count(*) from quarantine", "0"),
        ("describe documents", "doc_id"),
        (f"select count(*) from glob('{docs_wh.root}/documents/**')", "1"),  # its own files stay readable
    ]:
        res = _sql(docs_wh, q, "--format", "csv")
        assert res.exit_code == 0, (q, res.output)
        assert expect in res.stdout, (q, res.stdout)


@pytest.mark.parametrize(
    "query",
    [
        "explain analyze copy (select 42 as x) to 'x.csv'",
        "copy (select 42 as x) to 'x.csv'",
        "select 1; copy (select 42 as x) to 'x.csv'",
    ],
)
@pytest.mark.hostile("SQL attacks", ok="clear_error", bad="security")
def test_no_file_written_outside(docs_wh, tmp_path, query):
    res = _sql(docs_wh, query)
    assert res.exit_code == 2, res.output
    assert "read-only mode" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.hostile("SQL attacks", ok="clear_error", bad="security")
def test_warehouse_parquet_cannot_be_overwritten(docs_wh):
    part = docs_wh.files("documents")[0]
    before = part.read_bytes()
    for q in (
        f"copy (select * from documents union all select * from documents) to '{part}'",
        f"explain analyze copy (select * from documents union all select * from documents) to '{part}'",
        f"select 1; copy (select * from documents) to '{part}'",
    ):
        res = _sql(docs_wh, q)
        assert res.exit_code == 2, (q, res.output)
    assert part.read_bytes() == before and _count(docs_wh) == 2


@pytest.mark.parametrize(
    "query",
    [
        "select * from read_text('/etc/passwd')",
        "select * from read_csv('/etc/passwd')",
        "select * from read_blob('file:///etc/passwd')",
        "select count(*) from glob('/root/**')",
        "select * from read_parquet('https://example.com/data.parquet')",
        "select * from read_text('../outside.txt')",
        "select * from read_text('warehouse/../outside.txt')",
        "select * from read_text('warehouse2/secret.txt')",  # shares the warehouse's name as a prefix
        "select * from read_text('warehouse/link/secret.txt')",  # a symlink out of the warehouse
    ],
)
@pytest.mark.hostile("SQL attacks", ok="clear_error", bad="security")
def test_files_outside_the_warehouse_unreachable(docs_wh, tmp_path, query):
    (tmp_path / "outside.txt").write_text("secret")
    (tmp_path / "warehouse2").mkdir()
    (tmp_path / "warehouse2" / "secret.txt").write_text("secret")
    (docs_wh.root / "link").symlink_to(tmp_path / "warehouse2")
    res = _sql(docs_wh, query.replace("'..", f"'{docs_wh.root}/..").replace("'warehouse", f"'{tmp_path}/warehouse"))
    assert res.exit_code == 2, res.output
    assert "Cannot access" in res.output and "inside" in res.output and "secret" not in res.stdout
    assert "root:" not in res.stdout and "install" not in res.output.lower()


@pytest.mark.parametrize(
    "query",
    [
        "select 1; select 2",
        "pragma version",
        "attach 'x.db' as x",
        "set enable_external_access = true",
        "install httpfs",
        "load httpfs",
        "create table t as select 1",
        "call pragma_version()",
        "explain select 1",
    ],
)
@pytest.mark.hostile("SQL attacks", ok="clear_error", bad="security")
def test_other_statements_refused(docs_wh, tmp_path, query):
    res = _sql(docs_wh, query)
    assert res.exit_code == 2, res.output
    assert "read-only mode" in res.output and "--write" in res.output
    assert not (tmp_path / "x.db").exists()


@pytest.mark.hostile("SQL attacks", ok="clear_error", bad="security")
def test_sandbox_cannot_be_unlocked(docs_wh):
    con = connect_sandboxed(docs_wh)
    for setting in ("enable_external_access = true", "allowed_directories = ['/']", "autoload_known_extensions=true"):
        with pytest.raises(duckdb.InvalidInputException, match="locked"):
            con.execute(f"SET {setting}")
    assert con.execute("select count(*) from documents").fetchone() == (2,)


def test_write_is_the_escape_hatch(docs_wh, tmp_path):
    res = _sql(docs_wh, "copy (select 42 as x) to 'x.csv'", "--write")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "x.csv").read_text().split() == ["x", "42"]
    assert "full access" in runner.invoke(app, ["sql", "--help"]).stdout


@pytest.mark.parametrize("make", [lambda p: p, lambda p: p.mkdir() or p])
def test_not_a_warehouse_is_an_error(tmp_path, make):
    d = make(tmp_path / "nowhere")
    res = runner.invoke(app, ["--warehouse", str(d), "sql", "select count(*) from documents"])
    assert res.exit_code == 2, res.output
    assert f"no warehouse at {d}" in res.output.replace("\n", "")
