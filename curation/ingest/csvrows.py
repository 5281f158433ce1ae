"""CSV/TSV records from physical lines, so that one bad row is quarantined alone and the rows around it are kept.

Over the bounded line reader (curation/ingest/lines.py): a record is one line, or several when a quoted field
holds newlines (odd quote parity). A record that opens a quote which never closes within `max_record_bytes`, or
closes it on a row of the wrong width, is not merged with the lines after it: its first line is quarantined
(`invalid_csv`, with the line number and raw bytes) and the lines after it are read again as rows of their own.
Each record is decoded as UTF-8 (`wrong_encoding` otherwise) and split by Python's csv module in strict mode.
"""

from __future__ import annotations

import csv
import sys
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from curation.ingest.items import Rejection
from curation.ingest.limits import current
from curation.ingest.lines import KEEP_BYTES, Line, StreamBroken, iter_lines, too_long

csv.field_size_limit(sys.maxsize)  # sizes are bounded by the line reader and max_record_bytes, not per field


@dataclass(slots=True)
class CsvRow:
    line: int  # first physical line of the record
    cells: list[str]


class _Splitter:
    """One strict csv.reader kept for the whole file, fed one record's text at a time (a reader per record costs
    more than the parsing); it stays usable after a record that raised csv.Error."""

    def __init__(self, delimiter: str):
        self._text: str | None = None
        self._reader = csv.reader(self, delimiter=delimiter, strict=True)

    def __iter__(self) -> _Splitter:
        return self

    def __next__(self) -> str:
        text, self._text = self._text, None
        if text is None:
            raise StopIteration
        return text

    def cells(self, raw: bytes, width: int | None) -> tuple[list[str] | None, str, str]:
        """(cells, reason, why): the record's cells, or the quarantine reason and why not."""
        try:
            self._text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            return None, "wrong_encoding", f"not UTF-8: {e}"
        try:
            cells = next(self._reader, [])
        except csv.Error as e:
            return None, "invalid_csv", f"broken quoting: {e}"
        finally:
            self._text = None
        if width is not None and len(cells) != width:
            return None, "invalid_csv", f"expected {width} columns, got {len(cells)}"
        return cells, "", ""


def _join(lines: list[Line]) -> bytes:
    return b"\n".join(ln.data for ln in lines).removesuffix(b"\r")


class _LineSource:
    """The file's lines with push-back, a restart at a given line, and a broken stream turned into the end of
    input (`broken` keeps it, to be quarantined once every line before it was used)."""

    def __init__(self, path: Path):
        self.path = path
        self.pending: deque[Line] = deque()
        self.broken: StreamBroken | None = None
        self._lines: Iterator[Line] = iter_lines(path)

    def next(self) -> Line | None:
        if self.pending:
            return self.pending.popleft()
        if self.broken is not None:
            return None
        try:
            return next(self._lines, None)
        except StreamBroken as e:
            self.broken = e
            return None

    def push_back(self, lines: list[Line]) -> None:
        self.pending.extendleft(reversed(lines))

    def restart_at(self, number: int) -> None:
        """Read again from line `number` (a new pass over the file: the lines were not held)."""
        self.pending.clear()
        self.broken = None
        self._lines = (ln for ln in iter_lines(self.path) if ln.number >= number)


def iter_csv(path: Path, delimiter: str = ",", header: bool = False) -> Iterator[CsvRow | Rejection]:
    """Yield each record's cells, or a Rejection for a bad one. With `header`, every record must have as many
    cells as the first one. Blank lines are skipped. A broken stream ends with one Rejection.

    A quoted field that runs past `max_record_bytes` is skimmed to its closing quote without being held and
    quarantined whole as `oversized_record`; if the file ends first, the quote was unterminated: its first line is
    quarantined and the file is read again from the line after it.
    """
    max_record = current().max_record_bytes
    width: int | None = None
    src = _LineSource(path)
    split = _Splitter(delimiter)
    kept = -1 if header else 0  # data rows yielded, for the message of a broken stream
    while (first := src.next()) is not None:
        ref = f"{path}:{first.number}"
        if first.too_long and not first.quotes % 2:
            yield too_long(path, first)
            continue
        data = first.data.removesuffix(b"\r")
        if not first.too_long and not data.strip(b" \t"):
            continue
        cells, reason, why = split.cells(data, width) if not first.too_long else (None, "invalid_csv", "")
        record = [first]
        if first.quotes % 2 and reason == "invalid_csv":  # a quoted field may go on over the next lines
            size, quotes = first.size, first.quotes
            while quotes % 2 and size <= max_record and (more := src.next()) is not None:
                record.append(more)
                size, quotes = size + more.size + 1, quotes + more.quotes
            if quotes % 2 and size > max_record:
                yield from _skim(src, first, record, size, quotes)
                continue
            if quotes % 2:
                why = f"unterminated quote on line {first.number}"
            else:
                cells, reason, why = split.cells(_join(record), width)
                why = f"the quote opened on line {first.number} does not close into a valid row ({why})"
            if cells is None:  # only the first line is bad: the lines after it are read as rows of their own
                src.push_back(record[1:])
                record = [first]
                why += "; the lines after it were read as rows of their own"
        if cells is None:
            yield Rejection(reason or "invalid_csv", ref, _join(record), why)
            continue
        if header and width is None:
            width = len(cells)
        kept += 1
        yield CsvRow(first.number, cells)
    if src.broken is not None:
        yield src.broken.quarantined(path, kept)


def _skim(src: _LineSource, first: Line, record: list[Line], size: int, quotes: int) -> Iterator[Rejection]:
    """A quoted record over max_record_bytes: consume it to its closing quote holding only its first KEEP_BYTES."""
    head = _join(record)[:KEEP_BYTES]
    ref = f"{src.path}:{first.number}"
    last = record[-1]
    del record[:]
    while quotes % 2 and (more := src.next()) is not None:
        size, quotes, last = size + more.size + 1, quotes + more.quotes, more
    if not quotes % 2:
        why = (
            f"record on lines {first.number}-{last.number} is {size} bytes > max_record_bytes "
            f"{current().max_record_bytes}; payload: its first {len(head)} bytes"
        )
        yield Rejection("oversized_record", ref, head, why, payload_bytes=size)
        return
    why = f"unterminated quote on line {first.number}: the file was read again from line {first.number + 1}"
    yield Rejection("invalid_csv", ref, first.data, why)
    src.restart_at(first.number + 1)
