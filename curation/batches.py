"""Re-chunk an Arrow stream to a target batch size: DuckDB's readers yield small vectors (a few thousand rows)
whatever size is asked for, while per-batch work (a GE run, an output unit) wants a fixed, larger batch."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pyarrow as pa


def rechunk(batches: Iterable[pa.RecordBatch], rows: int) -> Iterator[pa.Table]:
    """Tables of exactly `rows` rows (the last may be shorter); memory is one output table."""
    pending: list[pa.RecordBatch] = []
    n = 0
    for b in batches:
        while b.num_rows:
            take = min(rows - n, b.num_rows)
            pending.append(b.slice(0, take))
            n += take
            b = b.slice(take)
            if n == rows:
                yield pa.Table.from_batches(pending)
                pending, n = [], 0
    if n:
        yield pa.Table.from_batches(pending)
