"""Tabular sources (formats `jsonl`, `parquet`, `csv`) into `documents` or `benchmark_items` via a field mapping.

Streaming throughout: JSON Lines line by line, Parquet by record batch, CSV by pyarrow's streaming reader. CSV
cells are read as bytes and decoded per cell, so one wrongly encoded cell quarantines its row instead of
failing the batch, and type inference cannot break halfway through a file; the mapping does the typing.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from curation.ingest.benchmarks.common import iter_jsonl
from curation.ingest.formats import FORMATS, FormatSpec
from curation.ingest.items import Item, Rejection
from curation.ingest.mapping import Mapper, MappingOptions
from curation.ingest.textio import open_binary

BATCH_ROWS = 4096


class Options(MappingOptions):
    reader: Literal["auto", "jsonl", "parquet", "csv"] = "auto"  # auto: from the file suffix


def _rows_jsonl(path: Path) -> Iterator[tuple[int, str, dict[str, Any] | Rejection]]:
    for index, line_no, obj in iter_jsonl(path):
        yield index, f"{path}:{line_no}", obj


def _rows_parquet(path: Path) -> Iterator[tuple[int, str, dict[str, Any] | Rejection]]:
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as e:
        yield 0, str(path), Rejection("invalid_parquet", str(path), None, str(e))
        return
    index = 0
    for batch in pf.iter_batches(batch_size=BATCH_ROWS):
        for row in batch.to_pylist():
            yield index, f"{path}#row{index}", row
            index += 1


def _csv_header(path: Path) -> list[str] | None:
    """Column names from the first line, read here so that pyarrow never infers anything from the data."""
    with open_binary(path) as f:
        first = f.readline()
    if not first.strip():
        return None
    return next(csv.reader([first.decode("utf-8-sig", errors="replace")]))


def _rows_csv(path: Path) -> Iterator[tuple[int, str, dict[str, Any] | Rejection]]:
    names = _csv_header(path)
    if not names:
        yield 0, str(path), Rejection("empty_file", str(path), None, "no header row")
        return
    bad: list[Rejection] = []

    def invalid_row(row: Any) -> str:
        why = f"expected {row.expected_columns} columns, got {row.actual_columns}"
        bad.append(Rejection("invalid_csv", f"{path}:{row.number or '?'}", row.text, why))
        return "skip"

    read = pacsv.ReadOptions(column_names=names, skip_rows=1)
    convert = pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.binary()), strings_can_be_null=False)
    parse = pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=invalid_row)
    index = 0
    with open_binary(path) as f:
        for batch in pacsv.open_csv(f, read_options=read, parse_options=parse, convert_options=convert):
            while bad:
                yield index, bad[0].source_ref, bad.pop(0)
            columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
            for cells in zip(*columns, strict=True):
                ref = f"{path}#row{index}"
                try:
                    yield index, ref, {n: c.decode("utf-8") for n, c in zip(names, cells, strict=True)}
                except UnicodeDecodeError as e:
                    raw = b",".join(cells)
                    yield index, ref, Rejection("wrong_encoding", ref, raw, f"not UTF-8: {e}")
                index += 1
        for q in bad:
            yield index, q.source_ref, q


READERS = {"jsonl": _rows_jsonl, "parquet": _rows_parquet, "csv": _rows_csv}


def format_of(path: Path) -> str:
    name = path.name.lower().removesuffix(".gz")
    for fmt, suffixes in (("jsonl", (".jsonl", ".ndjson", ".json")), ("parquet", (".parquet",)), ("csv", (".csv",))):
        if name.endswith(suffixes):
            return fmt
    raise ValueError(f"cannot tell the tabular format of {path.name}: use .jsonl, .parquet or .csv")


def map_rows(rows: Iterator[tuple[int, str, dict[str, Any] | Rejection]], mapper: Mapper) -> Iterator[Item]:
    """Apply a mapping to (index, ref, raw row) items; shared with the Hugging Face connector."""
    for index, ref, raw in rows:
        yield raw if isinstance(raw, Rejection) else mapper(raw, index, ref)


def parse(path: Path, options: Options, split: str | None) -> Iterator[Item]:
    reader = format_of(path) if options.reader == "auto" else options.reader
    yield from map_rows(READERS[reader](path), Mapper(options, split))


for _name in ("jsonl", "parquet", "csv"):
    FORMATS.register(FormatSpec(_name, parse, Options, "documents"))
