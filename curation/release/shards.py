"""Stream one partition (config × licence bucket × split) out of DuckDB into zstd Parquet shards of a target size.

Rows arrive as Arrow record batches (`to_arrow_reader`), so memory stays bounded by one batch and one open
row group. Shards get their final `<split>-NNNNN-of-MMMMM.parquet` names only once the total is known.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

BATCH_ROWS = 10_000


@dataclass(frozen=True)
class ShardFile:
    path: Path
    rows: int
    nbytes: int  # Arrow (in-memory) size: what `datasets` reports as num_bytes


def write_partition(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    out_dir: Path,
    split: str,
    *,
    target_bytes: int,
    target_rows: int,
) -> list[ShardFile]:
    """Write the rows of `sql` as shards under out_dir; a partition without rows writes no file."""
    reader = con.cursor().sql(sql).to_arrow_reader(min(BATCH_ROWS, target_rows))
    parts: list[tuple[Path, int, int]] = []
    writer: pq.ParquetWriter | None = None
    rows = 0
    for batch in reader:
        offset = 0
        while offset < batch.num_rows:
            if writer is None:
                out_dir.mkdir(parents=True, exist_ok=True)
                path = out_dir / f".{split}-{len(parts):05d}.parquet.tmp"
                writer = pq.ParquetWriter(path, reader.schema, compression="zstd")
                parts.append((path, 0, 0))
                rows = 0
            take = min(batch.num_rows - offset, target_rows - rows)
            piece = batch.slice(offset, take)
            writer.write_batch(piece)
            rows += take
            offset += take
            parts[-1] = (parts[-1][0], rows, parts[-1][2] + piece.nbytes)
            if rows >= target_rows or parts[-1][0].stat().st_size >= target_bytes:
                writer.close()
                writer = None
    if writer is not None:
        writer.close()
    total = len(parts)
    out = []
    for i, (tmp, n, nbytes) in enumerate(parts):
        final = out_dir / f"{split}-{i:05d}-of-{total:05d}.parquet"
        os.replace(tmp, final)
        out.append(ShardFile(final, n, nbytes))
    return out
