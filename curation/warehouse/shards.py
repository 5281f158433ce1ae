"""Atomic shard writer: rows in, zstd Parquet parts of bounded rows and bytes out, published as one unit."""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from curation.errors import DiskFull, is_disk_full
from curation.warehouse.store import Warehouse

DEFAULT_TARGET_ROWS = 250_000
DEFAULT_TARGET_BYTES = 256 * 1024 * 1024
BATCH_ROWS = 2_000


@dataclass
class UnitStats:
    table: str
    unit: str
    rows: int = 0
    files: list[str] = field(default_factory=list)
    bytes: int = 0


def _coerce_json(schema: pa.Schema, json_cols: set[str], row: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for name in schema.names:
        v = row.get(name)
        if name in json_cols and v is not None and not isinstance(v, str):
            v = json.dumps(v, ensure_ascii=False, sort_keys=True, default=str)
        out[name] = v
    return out


class ShardWriter:
    """Write one unit of a table. Use as a context manager: commit on success, discard on error.

    Rows are validated against the table schema (unknown columns are an error, so a typo never silently becomes a
    null column). Parts roll over at `target_rows` rows or `target_bytes` bytes, whichever comes first. A full disk
    raises DiskFull after removing the staged unit.
    """

    def __init__(
        self,
        warehouse: Warehouse,
        table: str,
        unit: str,
        *,
        target_rows: int = DEFAULT_TARGET_ROWS,
        target_bytes: int = DEFAULT_TARGET_BYTES,
        compression_level: int = 3,
    ):
        if "/" in unit or unit.startswith("."):
            raise ValueError(f"invalid unit name {unit!r}")
        self.warehouse = warehouse
        self.table = table
        self.unit = unit
        self.schema_def = warehouse.schema(table)
        self.schema = self.schema_def.arrow
        self._json_cols = {c.name for c in self.schema_def.columns if c.type == "json"}
        self._allowed = set(self.schema.names)
        self.target_rows = target_rows
        self.target_bytes = target_bytes
        self.compression_level = compression_level
        self._staging: Path | None = None
        self._writer: pq.ParquetWriter | None = None
        self._sink: pa.NativeFile | None = None  # opened here so that abort can always release the descriptor
        self._part_rows = 0
        self._part_path: Path | None = None
        self._buffer: list[dict[str, Any]] = []
        self.stats = UnitStats(table, unit)
        self._closed = False
        self._disk_full: DiskFull | None = None

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()

    def write(self, row: Mapping[str, Any]) -> None:
        extra = set(row) - self._allowed
        if extra:
            raise KeyError(f"table {self.table!r} has no columns {sorted(extra)}")
        self._buffer.append(_coerce_json(self.schema, self._json_cols, row))
        if len(self._buffer) >= BATCH_ROWS:
            self._flush()

    def write_many(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for r in rows:
            self.write(r)

    def write_table(self, table: pa.Table) -> None:
        """Write an Arrow table (columns are selected and cast to the schema)."""
        self._flush()
        missing = set(self.schema.names) - set(table.column_names)
        for name in missing:
            table = table.append_column(name, pa.nulls(table.num_rows, self.schema.field(name).type))
        extra = set(table.column_names) - self._allowed
        if extra:
            raise KeyError(f"table {self.table!r} has no columns {sorted(extra)}")
        table = table.select(self.schema.names).cast(self.schema)
        for batch in table.to_batches(max_chunksize=BATCH_ROWS):
            self._write_batch(pa.Table.from_batches([batch], schema=self.schema))

    def _flush(self) -> None:
        if not self._buffer:
            return
        rows, self._buffer = self._buffer, []
        self._write_batch(pa.Table.from_pylist(rows, schema=self.schema))

    @contextlib.contextmanager
    def _disk_full_is_fatal(self) -> Iterator[None]:
        """ENOSPC from any write (staging dir, part file, footer, publish): drop the staged unit, raise DiskFull."""
        try:
            yield
        except OSError as e:
            if not is_disk_full(e):
                raise
            self.abort()
            self._disk_full = DiskFull(self.table, self.warehouse.table_dir(self.table) / self.unit)
            raise self._disk_full from e

    def _write_batch(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self._check_nulls(table)
        offset = 0
        with self._disk_full_is_fatal():
            while offset < table.num_rows:
                writer, part_path = self._writer, self._part_path
                if writer is None or part_path is None:
                    writer, part_path = self._open_part()
                take = min(table.num_rows - offset, self.target_rows - self._part_rows)
                writer.write_table(table.slice(offset, take))
                self._part_rows += take
                self.stats.rows += take
                offset += take
                if self._part_rows >= self.target_rows or part_path.stat().st_size >= self.target_bytes:
                    self._close_part()

    def _check_nulls(self, table: pa.Table) -> None:
        for name in self.schema_def.required():
            if table.column(name).null_count:
                raise ValueError(f"table {self.table!r}: required column {name!r} has nulls")

    def _open_part(self) -> tuple[pq.ParquetWriter, Path]:
        """Open the next part file; returns its writer and path (also kept on self for _close_part and abort)."""
        if self._disk_full is not None:
            raise self._disk_full
        if self._closed:
            raise RuntimeError("writer already committed or aborted")
        if self._staging is None:
            self._staging = self.warehouse.staging_dir(self.table, self.unit)
        self._part_path = part_path = self._staging / f"part-{len(self.stats.files):05d}.parquet"
        self._sink = sink = pa.OSFile(str(part_path), "wb")
        self._writer = writer = pq.ParquetWriter(
            sink, self.schema, compression="zstd", compression_level=self.compression_level
        )
        self._part_rows = 0
        self.stats.files.append(part_path.name)
        return writer, part_path

    def _close_part(self) -> None:
        writer, sink, part_path = self._writer, self._sink, self._part_path
        if writer is not None:
            assert sink is not None and part_path is not None  # _open_part sets all three together
            writer.close()
            sink.close()
            self.stats.bytes += part_path.stat().st_size
            self._writer = self._sink = None

    def commit(self) -> UnitStats:
        """Publish the unit. An empty unit publishes nothing (and removes a stale unit of the same name). After a full
        disk this raises DiskFull again, so a caller that caught the first one cannot report the lost rows as written."""
        if self._disk_full is not None:
            raise self._disk_full
        if self._closed:
            return self.stats
        self._flush()
        with self._disk_full_is_fatal():
            self._close_part()
            if self._staging is None:
                self._closed = True
                self.warehouse.remove_unit(self.table, self.unit)
                return self.stats
            self.warehouse.publish(self._staging, self.table, self.unit)
        self._closed = True
        return self.stats

    def abort(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._writer is not None:
            with contextlib.suppress(OSError):  # its footer may not fit on a full disk; the file goes anyway
                self._writer.close()
        if self._sink is not None:  # open even when the writer failed to start or to close, and a deleted open
            with contextlib.suppress(OSError):  # file keeps its disk space
                self._sink.close()
        self._writer = self._sink = None
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
