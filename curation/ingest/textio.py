"""Opening source files: transparent gzip (inflated ahead on a thread), a per-file decompression guard, and the
classification of a broken stream into one reason code shared by every format."""

from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

from curation.ingest.gzthread import ThreadedGzipReader
from curation.ingest.limits import current

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer


class DecompressionLimit(Exception):
    """More decompressed bytes than the file's size allows (`max_decompression_ratio`): a gzip bomb, or a file to
    ingest with a higher limit. Not an OSError, so the flow does not retry it."""


# Exceptions that end a stream: what came before stays, the rest of the file is quarantined as one item.
STREAM_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error, DecompressionLimit)


class Readable(Protocol):
    def read(self, n: int = -1) -> bytes: ...


def stream_reason(error: BaseException) -> str:
    """The reason code of an error that ended a byte stream (see curation/ingest/reasons.py)."""
    if isinstance(error, EOFError):
        return "truncated_file"
    if isinstance(error, DecompressionLimit):
        return "decompression_limit"
    return "corrupt_file"


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


class GuardedReader(io.RawIOBase):
    """Counts decompressed bytes and stops at `max(ratio_grace_bytes, max_decompression_ratio × compressed size)`.

    A raw stream, so that `open_buffered` can put an io.BufferedReader (lines, iteration, TextIOWrapper) over it."""

    def __init__(self, raw: ThreadedGzipReader, compressed_bytes: int):
        super().__init__()
        self.raw = raw
        self.bytes = 0
        lim = current()
        self.limit = max(lim.ratio_grace_bytes, int(lim.max_decompression_ratio * compressed_bytes))
        self.ratio = lim.max_decompression_ratio

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.bytes += len(data)
        if self.bytes > self.limit:
            raise DecompressionLimit(
                f"decompressed more than {self.limit} bytes (max_decompression_ratio {self.ratio:g} × the file's "
                f"compressed size, at least ingest.ratio_grace_bytes): a gzip bomb, or raise the limit"
            )
        return data

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        data = self.read(len(memoryview(buffer)))
        memoryview(buffer).cast("B")[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.raw.close()
        super().close()

    def __enter__(self) -> GuardedReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_binary(path: Path) -> IO[bytes] | GuardedReader:
    """Decompress when the file is gzip, judged by its magic bytes rather than its name, within the guard."""
    return GuardedReader(ThreadedGzipReader(path), path.stat().st_size) if is_gzip(path) else open(path, "rb")


def open_buffered(path: Path) -> IO[bytes]:
    """`open_binary` for readers that need readline, line iteration or a TextIOWrapper."""
    f = open_binary(path)
    return io.BufferedReader(f) if isinstance(f, GuardedReader) else f


def open_text(path: Path, encoding: str = "utf-8") -> IO[str]:
    """A text file, gunzipped when it is gzip (the KG readers; the ingest parsers read bytes through open_binary)."""
    return gzip.open(path, "rt", encoding=encoding) if is_gzip(path) else open(path, encoding=encoding)
