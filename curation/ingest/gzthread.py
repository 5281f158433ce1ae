"""Gzip decompression on a second core: a reader thread inflates 1 MiB raw reads while the caller parses.

zlib releases the GIL while it inflates, so a thread that decompresses ahead into a small bounded queue overlaps
that work with lxml's tree building on the main thread (bench/ingest_pubmed.py: ~15% of PubMed parse time was
gzip). Semantics follow gzip.GzipFile where the connectors depend on them: multi-member files are read through,
zero padding after a member is ignored, a stream that ends inside a member raises EOFError, and a corrupt one
raises zlib.error / gzip.BadGzipFile — at the position in the decompressed stream where it happened.
"""

from __future__ import annotations

import gzip
import queue
import threading
import zlib
from pathlib import Path

RAW_CHUNK = 1 << 20
OUT_CHUNK = 1 << 20
QUEUE_CHUNKS = 4  # with OUT_CHUNK, bounds memory to a few MiB of decompressed data ahead of the parser


class ThreadedGzipReader:
    """A read()-only binary file over a gzip file, decompressed ahead by a daemon thread."""

    def __init__(self, path: Path):
        self._queue: queue.Queue[bytes | BaseException | None] = queue.Queue(QUEUE_CHUNKS)
        self._stop = threading.Event()
        self._buf = memoryview(b"")
        self._done = False
        self._thread = threading.Thread(target=self._inflate, args=(path,), daemon=True)
        self._thread.start()

    def _put(self, item: bytes | BaseException | None) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _inflate(self, path: Path) -> None:
        try:
            with open(path, "rb") as f:
                d = zlib.decompressobj(wbits=31)
                in_member = False
                while raw := f.read(RAW_CHUNK):
                    while raw:
                        if not in_member:
                            raw = raw.lstrip(b"\x00")  # padding between or after members, as GzipFile allows
                            if not raw:
                                break
                            if raw[:2] != b"\x1f\x8b"[: len(raw[:2])]:
                                raise gzip.BadGzipFile(f"Not a gzipped file ({raw[:2]!r})")
                            d = zlib.decompressobj(wbits=31)
                            in_member = True
                        out = d.decompress(raw, OUT_CHUNK)
                        if out and not self._put(out):
                            return
                        if d.eof:
                            in_member, raw = False, d.unused_data
                        else:
                            raw = d.unconsumed_tail
                if in_member:
                    out = d.flush()
                    if out and not self._put(out):
                        return
                    raise EOFError("Compressed file ended before the end-of-stream marker was reached")
            self._put(None)
        except (OSError, EOFError, zlib.error) as e:
            self._put(e)

    def read(self, n: int = -1) -> bytes:
        while not self._buf and not self._done:
            item = self._queue.get()
            if item is None:
                self._done = True
            elif isinstance(item, BaseException):
                self._done = True
                raise item
            else:
                self._buf = memoryview(item)
        if n is None or n < 0:
            parts = []
            while chunk := self.read(OUT_CHUNK):
                parts.append(chunk)
            return b"".join(parts)
        out, self._buf = bytes(self._buf[:n]), self._buf[n:]
        return out

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> ThreadedGzipReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
