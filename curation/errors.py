"""Errors that end a command with a clear message instead of a traceback (the CLI maps them to exit codes)."""

from __future__ import annotations

import errno
import os


class ValidationFailed(RuntimeError):
    """A dataset-level expectation failed; the message lists each failure (table, expectation, column, observed)."""


class DiskFull(RuntimeError):
    """The disk filled up (ENOSPC) while writing a warehouse table. Not an OSError on purpose: handlers that turn an
    unreadable input file into a quarantine row must not swallow it; it ends the run with one line."""

    def __init__(self, table: str, path: str | os.PathLike[str]):
        super().__init__(f"disk full while writing {table} at {path}")
        self.table = table
        self.path = str(path)


def is_disk_full(exc: BaseException) -> bool:
    """ENOSPC as raised by Python (errno), pyarrow (an OSError whose errno may be unset) or DuckDB (an IOException)."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return "No space left on device" in str(exc) or "Disk quota exceeded" in str(exc)
