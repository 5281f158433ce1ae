"""Gzipped clinical notes: the line readers (JSONL, CSV, the CSV header sniff) read through the decompression guard."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from curation.ingest import notes
from curation.ingest.textio import open_buffered


@pytest.mark.parametrize(
    ("name", "body", "ref"),
    [
        ("n.jsonl.gz", b'{"note_id": "1", "text": "hello"}\n{"note_id": "2", "text": "world"}\n', "n.jsonl.gz:1"),
        ("n.csv.gz", b"note_id,text\n1,hello\n2,world\n", "n.csv.gz:2"),
    ],
)
def test_gzipped_notes_parse(tmp_path: Path, name: str, body: bytes, ref: str) -> None:
    path = tmp_path / name
    path.write_bytes(gzip.compress(body))
    items = list(notes.parse(path, notes.Options(), None))
    assert [i.row["text"] for i in items] == ["hello", "world"]
    assert items[0].row["source_ref"] == f"{path.parent}/{ref}"


def test_open_buffered_reads_lines_of_gzip_and_plain(tmp_path: Path) -> None:
    (tmp_path / "a.gz").write_bytes(gzip.compress(b"one\ntwo\n"))
    (tmp_path / "a.txt").write_bytes(b"one\ntwo\n")
    for name in ("a.gz", "a.txt"):
        with open_buffered(tmp_path / name) as f:
            assert f.readline() == b"one\n"
            assert list(f) == [b"two\n"]
