"""Generators of hostile ingest inputs, written at test time (never committed): bombs, broken and odd files.

Each writes to the given path and returns it; sizes are parameters so tests stay at seconds.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tests import pubmed_xml as px

MiB = 1024 * 1024


def gzip_repeated(path: Path, head: bytes, unit: bytes, total_bytes: int, tail: bytes = b"") -> Path:
    """A gzip of `head`, then `unit` repeated to about `total_bytes`, then `tail`, streamed (level 1)."""
    block = unit * max(1, MiB // len(unit))
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(head)
        for _ in range(max(1, total_bytes // len(block))):
            f.write(block)
        f.write(tail)
    return path


def pubmed_junk_bomb(path: Path, total_bytes: int) -> Path:
    """Non-record elements between two real articles: without pruning they pile up under the root."""
    head = (px.HEADER + px.article("1")).encode()
    return gzip_repeated(
        path, head, b"<Junk><a>1</a><b/></Junk>\n", total_bytes, (px.article("2") + px.FOOTER).encode()
    )


def jsonl_endless_line(path: Path, total_bytes: int) -> Path:
    """A good line, one line of `total_bytes` (a JSON string that never ends), then a good line."""
    good = json.dumps({"id": "a", "text": "first"}).encode() + b"\n"
    last = b'"}\n' + json.dumps({"id": "b", "text": "after"}).encode() + b"\n"
    return gzip_repeated(path, good + b'{"id": "x", "text": "', b"x" * 4096, total_bytes, last)


def plain_huge_field(path: Path, field_bytes: int, fmt: str) -> Path:
    """A row with one huge cell between two good rows, plain text (JSONL or CSV)."""
    big = "y" * field_bytes
    if fmt == "csv":
        path.write_text(f"id,text\nd1,one\nd2,{big}\nd3,three\n")
    else:
        rows = [{"id": "d1", "text": "one"}, {"id": "d2", "text": big}, {"id": "d3", "text": "three"}]
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def csv_lines(n: int, start: int = 0) -> bytes:
    return b"".join(f"d{i},text number {i}\n".encode() for i in range(start, start + n))


def truncated_gzip(path: Path, data: bytes, keep: float = 0.5) -> Path:
    packed = gzip.compress(data)
    path.write_bytes(packed[: int(len(packed) * keep)])
    return path


def parquet_with_corrupt_page(path: Path, groups: int = 8, rows_per_group: int = 500, bad_group: int = 3) -> Path:
    """A Parquet file (page checksums on) whose `bad_group` has garbage in the middle of its text column chunk."""
    n = groups * rows_per_group
    table = pa.table({"id": [f"d{i}" for i in range(n)], "text": [f"text {i} " * 8 for i in range(n)]})
    pq.write_table(table, path, row_group_size=rows_per_group, write_page_checksum=True, compression="snappy")
    col = pq.ParquetFile(path).metadata.row_group(bad_group).column(1)
    start = col.dictionary_page_offset if col.has_dictionary_page else col.data_page_offset
    size = col.total_compressed_size
    with open(path, "r+b") as f:
        f.seek(start + size // 2)
        f.write(os.urandom(min(64, size // 4)))
    return path


def deep_json(depth: int) -> str:
    return '{"id": "deep", "text": ' + "[" * depth + "]" * depth + "}"
