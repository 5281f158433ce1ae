"""Tabular sources (formats `jsonl`, `parquet`, `csv`; `.tsv` too) into `documents` or `benchmark_items` via a field
mapping (curation/ingest/mapping.py; `id`/`text`/`title` columns need none).

Every readable row is kept: JSON Lines and CSV/TSV go through the bounded line reader one line or record at a
time (a bad one is quarantined alone, a truncated .gz keeps the rows before the break); Parquet is read row group
by row group in record batches, and a row group that fails is read again in small batches so that only the
unreadable rows are quarantined. CSV cells are strings (no type inference); the mapping does the typing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curation.errors import IngestConfigError
from curation.ingest.benchmarks.common import iter_jsonl
from curation.ingest.csvrows import CsvRow, iter_csv
from curation.ingest.formats import FORMATS, FormatSpec
from curation.ingest.items import Item, Rejection
from curation.ingest.limits import current
from curation.ingest.lines import KEEP_BYTES
from curation.ingest.mapping import Mapper, MappingOptions

BATCH_ROWS = 4096
RETRY_BATCH_ROWS = 16  # after a failure inside a row group: how finely its readable rows are recovered
DELIMITERS = {"csv": ",", "tsv": "\t"}
Rows = Iterator[tuple[int, str, dict[str, Any] | Rejection]]


class Options(MappingOptions):
    reader: Literal["auto", "jsonl", "parquet", "csv", "tsv"] = "auto"  # auto: from the file suffix
    delimiter: str | None = None  # csv/tsv: one character; default from the reader (tsv: tab)


def _rows_jsonl(path: Path, options: Options) -> Rows:
    for index, line_no, obj in iter_jsonl(path):
        yield index, f"{path}:{line_no}", obj


def _oversized(batch: pa.RecordBatch, path: Path, start: int) -> dict[int, Rejection]:
    """Rows of a batch whose string and binary cells together exceed max_record_bytes, judged on Arrow lengths
    before any row becomes Python objects; the payload is the first KEEP_BYTES of the largest cell."""
    limit = current().max_record_bytes
    texts = [c for c in batch.columns if pa.types.is_string(c.type) or pa.types.is_large_string(c.type)
             or pa.types.is_binary(c.type)]  # fmt: skip
    if not texts:
        return {}
    lengths = [pc.fill_null(pc.binary_length(c), 0) for c in texts]
    total = lengths[0]
    for extra in lengths[1:]:
        total = pc.add(total, extra)
    out = {}
    for i in pc.indices_nonzero(pc.greater(total, limit)).to_pylist():
        sizes = [ln[i].as_py() for ln in lengths]
        big = texts[sizes.index(max(sizes))]
        payload = pc.binary_slice(big.slice(i, 1).cast(pa.binary()), 0, KEEP_BYTES)[0].as_py()
        ref = f"{path}#row{start + i}"
        why = f"row of {total[i].as_py()} bytes of text > max_record_bytes {limit}; payload: its largest cell"
        out[i] = Rejection("oversized_record", ref, payload, why, payload_bytes=max(sizes))
    return out


def _batch_rows(batch: pa.RecordBatch, path: Path, start: int) -> Rows:
    big = _oversized(batch, path, start)
    keep = batch if not big else batch.filter(pa.array([i not in big for i in range(batch.num_rows)]))
    rows = iter(keep.to_pylist())
    for i in range(batch.num_rows):
        yield start + i, f"{path}#row{start + i}", big[i] if i in big else next(rows)


def _rows_parquet(path: Path, options: Options) -> Rows:
    try:
        pf = pq.ParquetFile(path, page_checksum_verification=True)
    except (pa.ArrowException, OSError) as e:
        yield 0, str(path), Rejection("invalid_parquet", str(path), None, f"not a readable Parquet file: {e}")
        return
    start = 0
    for rg in range(pf.num_row_groups):
        n = pf.metadata.row_group(rg).num_rows
        done = 0
        for batch_rows in (BATCH_ROWS, RETRY_BATCH_ROWS):
            try:
                for k, batch in enumerate(pf.iter_batches(batch_size=batch_rows, row_groups=[rg], use_threads=False)):
                    if (k + 1) * batch_rows <= done:
                        continue  # already yielded before the failure
                    yield from _batch_rows(batch.slice(done - k * batch_rows), path, start + done)
                    done = k * batch_rows + batch.num_rows
                error = None
                break
            except (pa.ArrowException, OSError) as e:
                error = e
        if error is not None:
            ref = f"{path}#row{start + done}-{start + n - 1}"
            why = f"row group {rg}: rows {start + done}..{start + n - 1} unreadable ({type(error).__name__}: {error})"
            yield start + done, ref, Rejection("invalid_parquet", ref, None, why)
        start += n


def _rows_delimited(path: Path, options: Options, reader: str) -> Rows:
    delimiter = options.delimiter or DELIMITERS[reader]
    records = iter_csv(path, delimiter, header=True)
    header = next(records, None)
    if not isinstance(header, CsvRow):
        yield 0, str(path), header or Rejection("empty_file", str(path), None, "no header row")
        return
    for index, rec in enumerate(records):
        if isinstance(rec, Rejection):
            yield index, rec.source_ref, rec
        else:
            yield index, f"{path}:{rec.line}", dict(zip(header.cells, rec.cells, strict=True))


def format_of(path: Path) -> str:
    """The reader for a file from its suffix (.gz ignored)."""
    name = path.name.lower().removesuffix(".gz")
    for fmt, suffixes in (
        ("jsonl", (".jsonl", ".ndjson", ".json")),
        ("parquet", (".parquet",)),
        ("csv", (".csv",)),
        ("tsv", (".tsv", ".tab", ".sif")),  # .sif: Hetionet's tab-separated edge lists
    ):
        if name.endswith(suffixes):
            return fmt
    raise IngestConfigError(
        f"cannot tell the tabular format of {path.name}: use .jsonl, .parquet, .csv or .tsv, or set option reader"
    )


def check(path: Path, options: Options, split: str | None) -> str:
    """The reader for the file, or IngestConfigError before any row is read."""
    return format_of(path) if options.reader == "auto" else options.reader


def read_rows(path: Path, options: Options) -> Rows:
    reader = check(path, options, None)
    if reader in DELIMITERS:
        return _rows_delimited(path, options, reader)
    return {"jsonl": _rows_jsonl, "parquet": _rows_parquet}[reader](path, options)


def map_rows(rows: Rows, mapper: Mapper) -> Iterator[Item]:
    """Apply a mapping to (index, ref, raw row) items; shared with the Hugging Face connector."""
    for index, ref, raw in rows:
        yield raw if isinstance(raw, Rejection) else mapper(raw, index, ref)


def parse(path: Path, options: Options, split: str | None) -> Iterator[Item]:
    mapper = Mapper(options, split, path)
    yield from map_rows(read_rows(path, options), mapper)


for _name in ("jsonl", "parquet", "csv"):
    FORMATS.register(FormatSpec(_name, parse, Options, "documents", check))
