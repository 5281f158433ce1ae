"""Output that bypasses Python logging: child processes and native code write straight to file descriptors 1 and 2
(vLLM's engine process prints its warnings, torch's C++ warnings and the checkpoint loader's progress bars there).

On the quiet console (the CLI without --verbose) `native_output_to_log()` points fds 1 and 2 at the current run's log
file while such a child starts, so the child inherits the log file as its stdout and stderr for its whole life; the
parent's own descriptors are restored when the block ends. Off by default: library use and tests see everything."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator

RUN_LOG_MARK = "medcurate_run_log"  # set on the FileHandler of a run's log file (orchestrate.runner.run_log)
_capture = False


def capture_native_output(on: bool) -> None:
    """The CLI's console decides: quiet captures, --verbose leaves the terminal to the libraries."""
    global _capture
    _capture = on


def current_run_log() -> str | None:
    for handler in logging.getLogger().handlers:
        if getattr(handler, RUN_LOG_MARK, False) and isinstance(handler, logging.FileHandler):
            return handler.baseFilename
    return None


@contextlib.contextmanager
def native_output_to_log() -> Iterator[None]:
    path = current_run_log() if _capture else None
    if path is None:
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(path, "ab") as f:
        os.dup2(f.fileno(), 1)
        os.dup2(f.fileno(), 2)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, copy in zip((1, 2), saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)
