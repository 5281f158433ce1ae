"""Stream one partition (config × licence bucket × split) out of DuckDB into zstd Parquet shards of a target size.

Rows arrive as Arrow record batches (`to_arrow_reader`), so memory stays bounded by one batch and one open
row group. Shards get their final `<split>-NNNNN-of-MMMMM.parquet` names only once the total is known.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

BATCH_ROWS = 10_000


@dataclass(frozen=True)
class ShardFile:
    path: Path
    rows: int
    nbytes: int  # Arrow (in-memory) size: what `datasets` reports as num_bytes


def _close(writer: pq.ParquetWriter, sink: pa.NativeFile) -> None:
    writer.close()  # the footer
    sink.close()


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
    sink: pa.NativeFile | None = None  # opened here: pyarrow keeps its own file open when a write fails
    rows = 0
    try:
        for batch in reader:
            offset = 0
            while offset < batch.num_rows:
                if writer is None:
                    out_dir.mkdir(parents=True, exist_ok=True)
                    path = out_dir / f".{split}-{len(parts):05d}.parquet.tmp"
                    sink = pa.OSFile(str(path), "wb")
                    writer = pq.ParquetWriter(sink, reader.schema, compression="zstd")
                    parts.append((path, 0, 0))
                    rows = 0
                take = min(batch.num_rows - offset, target_rows - rows)
                piece = batch.slice(offset, take)
                writer.write_batch(piece)
                rows += take
                offset += take
                parts[-1] = (parts[-1][0], rows, parts[-1][2] + piece.nbytes)
                if rows >= target_rows or parts[-1][0].stat().st_size >= target_bytes:
                    _close(writer, sink)
                    writer, sink = None, None
        if writer is not None and sink is not None:
            _close(writer, sink)
    except BaseException:
        for f in (writer, sink):  # an open file keeps its (deleted) file's space: a full disk would stay full
            if f is not None:
                with contextlib.suppress(OSError):
                    f.close()
        for tmp, _, _ in parts:
            tmp.unlink(missing_ok=True)
        raise
    total = len(parts)
    out = []
    for i, (tmp, n, nbytes) in enumerate(parts):
        final = out_dir / f"{split}-{i:05d}-of-{total:05d}.parquet"
        os.replace(tmp, final)
        out.append(ShardFile(final, n, nbytes))
    return out
