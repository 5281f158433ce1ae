"""Bounds that keep ingest memory flat on hostile input, set once per file by the runner from `IngestConfig`.

A context variable rather than an argument: parsers keep their `parse(path, options, split)` signature and the
readers deep inside them (line reader, decompression guard, XML pruning) all see the same limits.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_record_bytes: int = 8 * MiB  # a record (row text, XML record, CSV record) beyond this is quarantined
    max_line_bytes: int = 16 * MiB  # a physical line beyond this is streamed past (raw JSON escapes cost bytes)
    max_decompression_ratio: float = 200.0  # decompressed / compressed bytes of one file
    ratio_grace_bytes: int = 64 * MiB  # decompressed bytes always allowed, whatever the ratio
    max_json_depth: int = 64  # nesting of one JSON value


_CURRENT: ContextVar[Limits] = ContextVar("ingest_limits", default=Limits())  # noqa: B039 (frozen dataclass)


def current() -> Limits:
    return _CURRENT.get()


@contextmanager
def using(limits: Limits) -> Iterator[Limits]:
    token = _CURRENT.set(limits)
    try:
        yield limits
    finally:
        _CURRENT.reset(token)
