"""Errors that end a command with a clear message instead of a traceback (the CLI maps them to exit codes).

A `UserError` is one the user can fix (a bad manifest, a locked warehouse, a missing model, an existing release):
the CLI prints its one line and exits 2. Anything else raised inside a stage is a failure: one line with the run
id and where the full trace is, exit 1.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix; its message says what and how."""


class ValidationFailed(RuntimeError):
    """A dataset-level expectation failed; the message lists each failure (table, expectation, column, observed)."""


class StageUnavailable(UserError):
    """The stage cannot do its work here (no generator reachable, a model package missing): the run is recorded as
    skipped with this message, a build goes on with the stages after it, and a stage command exits 2."""
