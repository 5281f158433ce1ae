"""What `medcurate validate` prints: one row per table (expectations passed and failed, failing rows) and the site.

Read back from the run's reports (`<warehouse>/validation/<run_id>/<table>/validation.json`), so the summary shows
exactly what was written, whichever process validated.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.table import Table

SITE_DIR = "data_docs"  # the Data Docs site under a docs root (curation.validate.data_docs)


def run_reports(report_dir: Path) -> list[dict[str, Any]]:
    """The reports of one validate run, by table name."""
    return [json.loads(p.read_text()) for p in sorted(Path(report_dir).glob("*/validation.json"))]


def site_index(warehouse_root: Path) -> Path:
    """The warehouse's Data Docs index: every table and run."""
    return Path(warehouse_root) / "validation" / SITE_DIR / "index.html"


def summary_table(reports: list[dict[str, Any]]) -> Table:
    """A rich Table: table, rows, expectations passed / failed, failing rows, status."""
    t = Table(title="validation", title_justify="left")
    t.add_column("table")
    t.add_column("rows", justify="right")
    t.add_column("passed", justify="right")
    t.add_column("failed", justify="right")
    t.add_column("failing rows", justify="right")
    t.add_column("status")
    for r in reports:
        if r.get("skipped"):
            t.add_row(r["table"], "", "", "", "", f"[dim]skipped: {r['skipped']}[/]")
            continue
        failed = sum(1 for x in r["results"] if not x["success"])
        rows = len(r["failing_rows"]) + r.get("truncated_failures", 0)
        status = "[green]passed[/]" if r["success"] else "[bold red]FAILED[/]"
        t.add_row(r["table"], str(r["rows"]), str(len(r["results"]) - failed), str(failed), str(rows), status)
    return t
