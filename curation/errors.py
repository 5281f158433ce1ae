"""Errors that end a command with a clear message instead of a traceback (the CLI maps them to exit codes)."""

from __future__ import annotations


class ValidationFailed(RuntimeError):
    """A dataset-level expectation failed; the message lists each failure (table, expectation, column, observed)."""
