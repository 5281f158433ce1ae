"""Errors that end a command with a clear message instead of a traceback (the CLI maps them to exit codes)."""

from __future__ import annotations


class ValidationFailed(RuntimeError):
    """A dataset-level expectation failed; the message lists each failure (table, expectation, column, observed)."""


class IngestConfigError(ValueError):
    """A whole input file cannot be ingested as configured (no split, unknown format, a directory where a file is
    expected): an error for the command (exit 2), not one quarantined row. Raised before or instead of parsing."""


class InputPathError(IngestConfigError):
    """An input path that must not be opened: missing, a directory, or a special file (FIFO, device, socket), which
    would block or stream forever. Checked by `curation.ingest.paths.check_input_paths` before the warehouse lock."""
