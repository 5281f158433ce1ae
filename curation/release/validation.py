"""Thin adapter to the validate stage: run a table's expectation suite on the rows of a release config.

The validate stage owns the suites and `curation.validate.validate_table`; the release only needs a pass/fail and a
summary for the card, so everything it depends on is in this file. The rows are handed over as a DuckDB relation
with the source table's own columns, so the suite sees exactly the rows that are released.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from curation.release.errors import ReleaseError


def _validator():
    try:
        from curation.validate import validate_table
    except ImportError as e:
        raise ReleaseError(
            f"release.validate is true but the validate stage is unavailable ({e}); "
            "set release.validate: false to release without validation"
        ) from None
    return validate_table


def require() -> None:
    """Fail before any work when validation is on but the validate stage is missing."""
    _validator()


def _passed(result: Any) -> bool:
    return bool(result.get("success") if isinstance(result, dict) else getattr(result, "success", False))


def _relative_artifacts(report_file: Path, release_dir: Path) -> None:
    """The report's artifact paths relative to the release: a published release carries no local paths."""
    if not report_file.is_file():
        return
    doc = json.loads(report_file.read_text())
    doc["artifacts"] = {
        k: Path(v).relative_to(release_dir).as_posix() if Path(v).is_relative_to(release_dir) else Path(v).name
        for k, v in (doc.get("artifacts") or {}).items()
    }
    report_file.write_text(json.dumps(doc, indent=1, default=str))


def validate_rows(
    con: duckdb.DuckDBPyConnection, table: str, rows: duckdb.DuckDBPyRelation, run_id: str, out_dir: Path
) -> dict[str, Any]:
    """Validate; a summary dict for manifest.json and the card. Raises ReleaseError when the suite fails."""
    report = _validator()(con, table, data=rows, run_id=run_id, out_dir=out_dir)
    _relative_artifacts(out_dir / "validation.json", out_dir.parent.parent)
    failed = [r for r in report.results if not _passed(r)]
    summary = {
        "table": table,
        "success": bool(report.success),
        "expectations": len(report.results),
        "failed": len(failed),
        "failing_rows": len(report.failing_rows or []),
    }
    if not report.success:
        detail = json.dumps(json.loads(report.to_json()), indent=1, default=str)[:4000]
        raise ReleaseError(f"validation of {table} failed ({len(failed)} expectations); report in {out_dir}:\n{detail}")
    return summary
