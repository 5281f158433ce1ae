"""`medcurate sql` output formats and read-only mode, `medcurate runs` listing and `runs show`."""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from curation.cli import app
from curation.warehouse import start_run
from tests.factories import doc_row, write_documents

runner = CliRunner()


def _invoke(wh, *args):
    return runner.invoke(app, ["--warehouse", str(wh.root), *args])


def test_sql_formats(wh):
    write_documents(wh, [doc_row("pmc:PMC1", "alpha"), doc_row("pmc:PMC2", "beta", license="CC-BY-NC-4.0")])
    q = "select doc_id, license from documents_current order by doc_id"
    res = _invoke(wh, "sql", q, "--format", "json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == [
        {"doc_id": "pmc:PMC1", "license": "CC-BY-4.0"},
        {"doc_id": "pmc:PMC2", "license": "CC-BY-NC-4.0"},
    ]
    res = _invoke(wh, "sql", q, "--format", "csv")
    assert res.stdout.splitlines() == ["doc_id,license", "pmc:PMC1,CC-BY-4.0", "pmc:PMC2,CC-BY-NC-4.0"]
    res = _invoke(wh, "sql", q)
    assert "pmc:PMC2" in res.stdout and "CC-BY-NC-4.0" in res.stdout


def test_sql_errors_are_clean(wh):
    res = _invoke(wh, "sql", "select nope from documents")
    assert res.exit_code == 2 and "nope" in res.output and "Traceback" not in res.output
    res = _invoke(wh, "sql", "create table x as select 1")
    assert res.exit_code == 2 and "read-only" in res.output
    res = _invoke(wh, "sql", "create or replace temp view x as select 1", "--write")
    assert res.exit_code == 0


def test_runs_list_and_show(wh):
    with start_run(wh, "ingest", {"manifest": "m.yaml"}) as run:
        run.add_input("/data/a.xml", "ab" * 32)
        run.count("rows", 7)
        run.quarantined({"missing_pmid": 2})
    res = _invoke(wh, "runs")
    assert res.exit_code == 0 and "ingest" in res.stdout and "completed" in res.stdout
    res = _invoke(wh, "runs", "show", run.run_id[-6:])
    assert res.exit_code == 0, res.output
    assert re.search(r"missing_pmid\W+2", res.stdout) and re.search(r"rows\W+7", res.stdout)
    assert "/data/a.xml" in res.stdout
    res = _invoke(wh, "runs", "show", "no-such-run")
    assert res.exit_code == 2 and "no unique run" in res.output
