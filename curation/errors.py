"""Errors that end a command with a clear message instead of a traceback (the CLI maps them to exit codes).

A `UserError` is one the user can fix (a bad manifest, a locked warehouse, a missing model, an existing release):
the CLI prints its one line and exits 2. Anything else raised inside a stage is a failure: one line with the run
id and where the full trace is, exit 1.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable, Iterator


class UserError(Exception):
    """A problem the user can fix; its message says what and how."""


class ValidationFailed(RuntimeError):
    """A dataset-level expectation failed; the message lists each failure (table, expectation, column, observed)."""


class StageUnavailable(UserError):
    """The stage cannot do its work here (no generator reachable, a model package missing): the run is recorded as
    skipped with this message, a build goes on with the stages after it, and a stage command exits 2."""


class DiskFull(UserError, RuntimeError):
    """The disk filled up (ENOSPC) while writing a warehouse table, a validation report, the Data Docs site or a
    release. Not an OSError on purpose: handlers that turn an unreadable input file into a quarantine row must not
    swallow it; it ends the run with one line."""

    def __init__(self, table: str, path: str | os.PathLike[str]):
        super().__init__(f"disk full while writing {table} at {path}")
        self.table = table
        self.path = str(path)


def is_disk_full(exc: BaseException) -> bool:
    """ENOSPC as raised by Python (errno), pyarrow (an OSError whose errno may be unset) or DuckDB (an IOException)."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return "No space left on device" in str(exc) or "Disk quota exceeded" in str(exc)


@contextlib.contextmanager
def disk_full_as(what: str, where: str | os.PathLike[str], undo: Callable[[], None] | None = None) -> Iterator[None]:
    """Run a block of writes whose failure must leave nothing partial: any exception first runs `undo` (remove what
    the block wrote); ENOSPC from any library (GE, matplotlib, DuckDB, pyarrow) then ends as DiskFull(what, where)."""
    try:
        yield
    except BaseException as e:
        if undo is not None:
            undo()
        if isinstance(e, Exception) and not isinstance(e, DiskFull) and is_disk_full(e):
            raise DiskFull(what, where) from e
        raise


class IngestConfigError(UserError, ValueError):
    """A whole input file cannot be ingested as configured (no split, unknown format, a directory where a file is
    expected): an error for the command (exit 2), not one quarantined row. Raised before or instead of parsing."""


class InputPathError(IngestConfigError):
    """An input path that must not be opened: missing, a directory, or a special file (FIFO, device, socket), which
    would block or stream forever. Checked by `curation.ingest.paths.check_input_paths` before the warehouse lock."""
