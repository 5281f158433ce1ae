"""Hand memory freed by one dedup phase back to the OS before the next one.

The signing phase's batches and Parquet writes go through several threads; the allocators (pyarrow's pool, glibc's
per-thread arenas) keep what they freed, and that stayed resident on top of the next phase's DuckDB memory limit
(about 200 MiB at 200 k documents). Releasing it between phases keeps the process near its import baseline plus
DuckDB's limit.
"""

from __future__ import annotations

import ctypes
import ctypes.util

import pyarrow as pa


def _malloc_trim() -> ctypes._NamedFuncPointer | None:
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    return getattr(libc, "malloc_trim", None)  # glibc only


_TRIM = _malloc_trim()


def release_freed_memory() -> None:
    """Return freed pages of pyarrow's pool and (on glibc) of malloc's arenas to the OS."""
    pa.default_memory_pool().release_unused()
    if _TRIM is not None:
        _TRIM(0)
