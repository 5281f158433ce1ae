"""Validation: Great Expectations suites per table (schemas/expectations) plus Python row rules.

Public API (imported lazily so that reading a manifest does not import Great Expectations):
    validate_table(wh_or_con, table, *, data=None, run_id=None, out_dir=None) -> ValidationReport
    validate_rows(table, rows) -> (good, bad_with_reasons)
"""

from __future__ import annotations

from typing import Any

__all__ = ["ValidationReport", "validate_rows", "validate_table"]


def __getattr__(name: str) -> Any:
    if name in ("validate_table", "ValidationReport"):
        from curation.validate import runner

        return getattr(runner, name)
    if name == "validate_rows":
        from curation.validate.row_rules import validate_rows

        return validate_rows
    raise AttributeError(name)
