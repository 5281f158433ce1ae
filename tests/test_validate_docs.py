"""One Data Docs site per warehouse, across tables and runs, readable offline; the per-table summary for the CLI.

The index is rendered in headless Chromium (Debian package `chromium`) with every host unresolvable, and its status
column must be filled; the browser test skips cleanly when chromium is not installed."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
from rich.console import Console

from curation.validate import validate_table
from curation.validate.summary import run_reports, site_index, summary_table
from curation.warehouse import ShardWriter
from tests.factories import doc_row, write_documents

REMOTE = re.compile(r"""<(?:script|link|img)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)


class _StatusCells(HTMLParser):
    """Text of each cell in the validation-results table's Status column."""

    def __init__(self):
        super().__init__()
        self.cells: list[str] = []
        self._in = 0

    def handle_starttag(self, tag, attrs):
        if tag == "td" and "col-validation_success" in (dict(attrs).get("class") or ""):
            self._in = 1
            self.cells.append("")

    def handle_endtag(self, tag):
        if tag == "td":
            self._in = 0

    def handle_data(self, data):
        if self._in:
            self.cells[-1] += data.strip()


@pytest.fixture(scope="module")
def validated(tmp_path_factory):
    """Two tables validated in two runs; the second run finds a bad licence in documents."""
    from curation.warehouse import Warehouse

    wh = Warehouse(tmp_path_factory.mktemp("docs") / "warehouse").ensure()
    write_documents(wh, [doc_row(f"pubmed:{i}", f"text {i}") for i in range(3)], unit="a")
    with ShardWriter(wh, "deletions", "u0") as w:
        w.write(
            {
                "work_id": "pubmed:9",
                "source": "pubmed",
                "source_id": "9",
                "source_file": "pubmed.xml",
                "source_file_sha256": "0" * 64,
                "record_index": 1,
                "run_id": "r",
            }
        )
    reports = {}
    for run in ("run-1", "run-2"):
        if run == "run-2":
            write_documents(wh, [doc_row("pubmed:9", "text", license="All rights reserved")], unit="b")
        for table in ("documents", "deletions"):
            reports[run, table] = validate_table(wh, table, run_id=run)
    return wh, reports


def test_one_site_indexes_every_table_and_run_offline(validated):
    wh, reports = validated
    index = site_index(wh.root)
    assert {r.artifacts["data_docs"] for r in reports.values()} == {str(index)}
    html = index.read_text()
    cells = _StatusCells()
    cells.feed(html)
    assert sorted(cells.cells) == ["Failed", "Success", "Success", "Success"]
    for run in ("run-1", "run-2"):
        for table in ("documents", "deletions"):
            assert list((index.parent / "validations" / table / run).rglob("*.html")), (table, run)
    for page in index.parent.rglob("*.html"):
        assert not REMOTE.search(page.read_text()), page  # no CDN script, stylesheet, icon or image
    assert not list((wh.root / "validation" / "run-1").rglob("index.html"))  # no per-table sites any more


def test_summary_table_for_the_cli(validated):
    wh, _ = validated
    console = Console(record=True, width=120)
    console.print(summary_table(run_reports(wh.root / "validation" / "run-2")))
    text = console.export_text()
    docs = next(line for line in text.splitlines() if line.startswith("│ documents"))
    assert re.search(r"documents\s+│\s+4\s+│\s+\d+\s+│\s+1\s+│\s+1\s+│\s+FAILED", docs), text
    assert re.search(r"deletions\s+│\s+1\s+│\s+\d+\s+│\s+0\s+│\s+0\s+│\s+passed", text), text


def test_index_renders_in_headless_chromium(validated, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (Debian: apt-get install -y chromium)")
    wh, _ = validated
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # offline: any CDN request would fail
        "--virtual-time-budget=3000",
        "--dump-dom",
        site_index(wh.root).as_uri(),
    ]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=90).stdout
    cells = _StatusCells()
    cells.feed(dom)
    assert len(cells.cells) == 4 and all(c.endswith(("Success", "Failed")) for c in cells.cells), dom[:2000]
    assert sum(c.endswith("Failed") for c in cells.cells) == 1
