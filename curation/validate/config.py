"""Manifest settings for validation (manifest key `validate`)."""

from __future__ import annotations

from pydantic import Field

from curation.config_base import StrictModel


class ValidateConfig(StrictModel):
    """Which tables to validate and how.

    `tables`: the tables to validate; empty means every table that has a suite in schemas/expectations (a table
    that has no data in the warehouse is skipped with a note). `batch_rows` bounds memory: Great Expectations runs on
    one pandas batch of at most this many rows at a time. `fail_on_error`: a failing dataset-level expectation fails
    the stage (the run record and reports are written first). `quarantine_rows`: rows that violate row rules or
    row-level expectations go to quarantine with the rule as reason.
    """

    tables: list[str] = Field(default_factory=list)
    batch_rows: int = Field(default=100_000, ge=100)
    fail_on_error: bool = True
    quarantine_rows: bool = True
    data_docs: bool = True
    max_failing_rows: int = Field(default=10_000, ge=0, description="failing rows kept per table in the report")
