"""The result of validating one table: per-expectation results, failing rows, and where the reports were written."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class ValidationReport:
    """`success` is False when any dataset-level expectation failed (a release must stop). Rows that violated a
    row rule or a row-level expectation are listed in `failing_rows` (their keys) and `row_failures` (key, rule,
    detail); they are for quarantine and do not by themselves make `success` False unless an expectation failed.

    Each entry of `results`: expectation_type, column (or None), kwargs, success, observed (observed value or a
    sample of unexpected values), unexpected_count, element_count, engine (great_expectations | duckdb | arrow),
    batches, exception.
    """

    table: str
    run_id: str
    success: bool = True
    rows: int = 0
    batches: int = 0
    results: list[dict[str, Any]] = field(default_factory=list)
    failing_rows: list[str] = field(default_factory=list)
    row_failures: list[dict[str, Any]] = field(default_factory=list)
    rules_applied: list[str] = field(default_factory=list)
    rules_skipped: list[str] = field(default_factory=list)
    skipped: str | None = None
    truncated_failures: int = 0
    artifacts: dict[str, str] = field(default_factory=dict)

    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.results if not r["success"]]

    def summary(self) -> dict[str, Any]:
        """A compact dict for run records and release cards."""
        return {
            "table": self.table,
            "success": self.success,
            "skipped": self.skipped,
            "rows": self.rows,
            "expectations": len(self.results),
            "failed_expectations": [
                {k: r[k] for k in ("expectation_type", "column", "observed", "unexpected_count")} for r in self.failed()
            ],
            "failing_rows": len(self.failing_rows) + self.truncated_failures,
            "row_rules": self.rules_applied,
            "row_rules_skipped": self.rules_skipped,
            "artifacts": self.artifacts,
        }

    def explain(self) -> str:
        """Human-readable: one line per failed expectation naming the expectation, column and observed values."""
        if self.skipped:
            return f"{self.table}: skipped ({self.skipped})"
        head = (
            f"{self.table}: {'passed' if self.success else 'FAILED'} {len(self.results) - len(self.failed())}"
            f"/{len(self.results)} expectations on {self.rows} rows; {len(self.failing_rows)} failing rows"
        )
        lines = [head]
        for r in self.failed():
            where = f" on column {r['column']!r}" if r["column"] else ""
            extra = f", {r['unexpected_count']} unexpected" if r.get("unexpected_count") else ""
            lines.append(
                f"  FAILED {r['expectation_type']}{where}{extra}: observed {r['observed']!r}"
                + (f" ({r['exception']})" if r.get("exception") else "")
            )
        for f in self.row_failures[:10]:
            lines.append(f"  row {f['key']}: {f['rule']}: {f['detail']}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, default=str)
