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

from curation.ingest.items import Quarantined
from curation.ingest.limits import current
from curation.ingest.lines import Line, StreamBroken, iter_lines, too_long

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


def iter_csv(path: Path, delimiter: str = ",", header: bool = False) -> Iterator[CsvRow | Quarantined]:
    """Yield each record's cells, or a Quarantined for a bad one. With `header`, every record must have as many
    cells as the first one. Blank lines are skipped. A broken stream ends with one Quarantined."""
    max_record = current().max_record_bytes
    width: int | None = None
    pending: deque[Line] = deque()  # lines read again after a record that did not hold together
    lines = iter_lines(path)
    split = _Splitter(delimiter)
    kept = -1 if header else 0  # data rows yielded, for the message of a broken stream
    try:
        while True:
            first = pending.popleft() if pending else next(lines, None)
            if first is None:
                break
            if first.too_long:
                yield too_long(path, first)
                continue
            data = first.data.removesuffix(b"\r")
            if not data.strip(b" \t"):
                continue
            cells, reason, why = split.cells(data, width)
            record = [first]
            if first.quotes % 2 and reason == "invalid_csv":  # a quoted field may go on over the next lines
                size = first.size
                while sum(ln.quotes for ln in record) % 2 and size <= max_record:
                    more = pending.popleft() if pending else next(lines, None)
                    if more is None or more.too_long:
                        if more is not None:
                            pending.appendleft(more)
                        break
                    record.append(more)
                    size += more.size + 1
                if sum(ln.quotes for ln in record) % 2:
                    why = f"unterminated quote on line {first.number}"
                else:
                    cells, reason, why = split.cells(_join(record), width)
                    why = f"the quote opened on line {first.number} does not close into a valid row ({why})"
                if cells is None:  # only the first line is bad: the lines after it are read as rows of their own
                    pending.extendleft(reversed(record[1:]))
                    record = [first]
                    why += "; the lines after it were read as rows of their own"
            if cells is None:
                yield Quarantined(reason or "invalid_csv", f"{path}:{first.number}", _join(record), why)
                continue
            if header and width is None:
                width = len(cells)
            kept += 1
            yield CsvRow(first.number, cells)
    except StreamBroken as e:
        yield e.quarantined(path, kept)
