"""Checking input paths before any work: a FIFO would block the reader forever (while holding the warehouse
lock), a device would stream forever, a directory is not a file. Call `check_input_paths` before taking the lock;
the runner checks each path again before opening it."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from curation.errors import InputPathError

_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def check_input_path(path: str | Path, fmt: str | None = None) -> Path:
    """Return the path if it is a regular file (or a directory for a directory format); else InputPathError.

    Uses stat only, never open: opening a FIFO blocks until a writer appears.
    """
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise InputPathError(f"no such file: {p}") from None
    except OSError as e:
        raise InputPathError(f"cannot read {p}: {e.strerror or e}") from None
    if stat.S_ISREG(st.st_mode):
        return p
    if stat.S_ISDIR(st.st_mode):
        if fmt and _reads_directories(fmt):
            return p
        raise InputPathError(f"{p} is a directory, not a file: give the files in it (a glob such as {p}/*)")
    kind = next((name for test, name in _KINDS if test(st.st_mode)), "not a regular file")
    raise InputPathError(f"{p} is {kind}: refusing to read it (ingest reads regular files only)")


def check_input_paths(paths: Iterable[str | Path], fmt: str | None = None) -> list[Path]:
    """Check every path; the first bad one raises InputPathError (an IngestConfigError: exit 2, before the lock)."""
    return [check_input_path(p, fmt) for p in paths]


def _reads_directories(fmt: str) -> bool:
    from curation.ingest.formats import FORMATS

    return fmt in FORMATS and FORMATS.get(fmt).reads_directories
