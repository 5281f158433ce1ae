"""Physical lines of a (possibly gzip) file with bounded memory: the line reader under JSON Lines, CSV/TSV, MedQA,
MedMCQA and MMLU.

A line longer than `max_line_bytes` is not held: its first `KEEP_BYTES` are kept for the quarantine payload and the
rest is streamed past, so the next line is read as usual. A broken stream (truncated or corrupt gzip, the
decompression guard) raises `StreamBroken` after every complete line before it was yielded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from curation.ingest.items import Rejection
from curation.ingest.limits import current
from curation.ingest.textio import STREAM_ERRORS, open_binary, stream_reason

CHUNK = 1 << 20
KEEP_BYTES = 64 * 1024  # of an over-long line, for the quarantine payload


@dataclass(slots=True)
class Line:
    number: int  # 1-based
    offset: int  # byte offset of its start in the decompressed stream
    data: bytes  # without the newline; only the first KEEP_BYTES when too_long
    size: int  # its real length in bytes, without the newline
    quotes: int  # number of '"' bytes in the whole line (CSV quote parity, also for a too-long line)
    too_long: bool = False


class StreamBroken(Exception):
    """The byte stream ended badly at `offset`; `partial` is the incomplete line before the break."""

    def __init__(self, error: BaseException, offset: int, partial: bytes, line: int):
        super().__init__(f"{type(error).__name__}: {error}")
        self.reason = stream_reason(error)
        self.offset = offset
        self.partial = partial
        self.line = line

    def quarantined(self, path: Path, kept: int) -> Rejection:
        detail = (
            f"{self} at byte {self.offset} of the decompressed stream (line {self.line}); {kept} rows before it "
            "were kept, the rest of the file could not be read"
        )
        return Rejection(self.reason, f"{path}@{self.offset}", self.partial or None, detail)


def iter_lines(path: Path, max_line_bytes: int | None = None) -> Iterator[Line]:
    """Yield every line (a final line without a newline too); a UTF-8 BOM at the start is dropped."""
    limit = max_line_bytes or current().max_line_bytes
    buf, size, quotes, too_long = bytearray(), 0, 0, False
    number, offset = 0, 0
    with open_binary(path) as f:
        while True:
            try:
                chunk = f.read(CHUNK)
            except STREAM_ERRORS as e:
                raise StreamBroken(e, offset + size, bytes(buf[:KEEP_BYTES]), number + 1) from e
            if not chunk:
                break
            if number == 0 and offset == 0 and size == 0 and chunk.startswith(b"\xef\xbb\xbf"):
                chunk, offset = chunk[3:], 3
            pieces = chunk.split(b"\n")
            for k, piece in enumerate(pieces):
                size += len(piece)
                quotes += piece.count(b'"')
                if not too_long:
                    if size > limit:
                        too_long = True
                        buf += piece[: max(KEEP_BYTES - len(buf), 0)]
                        del buf[KEEP_BYTES:]
                    else:
                        buf += piece
                if k == len(pieces) - 1:
                    break  # no newline yet: the line goes on in the next chunk
                number += 1
                yield Line(number, offset, bytes(buf), size, quotes, too_long)
                offset += size + 1
                buf, size, quotes, too_long = bytearray(), 0, 0, False
    if size:
        yield Line(number + 1, offset, bytes(buf), size, quotes, too_long)


def too_long(path: Path, line: Line) -> Rejection:
    limit = current().max_line_bytes
    return Rejection(
        "line_too_long",
        f"{path}:{line.number}",
        line.data,
        f"line {line.number} is {line.size} bytes > max_line_bytes {limit}; its first {len(line.data)} bytes are "
        "the payload, reading went on with the next line",
        payload_bytes=line.size,
    )
