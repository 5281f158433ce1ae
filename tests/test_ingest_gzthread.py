"""The threaded gzip reader must read exactly what gzip.GzipFile reads, and fail where it fails."""

from __future__ import annotations

import gzip
import os
import zlib

import pytest

from curation.ingest.gzthread import OUT_CHUNK, ThreadedGzipReader


def _read_all(path, n=32768) -> bytes:
    with ThreadedGzipReader(path) as r:
        parts = []
        while chunk := r.read(n):
            parts.append(chunk)
        return b"".join(parts)


def test_multi_member_padding_and_large_output(tmp_path):
    big = os.urandom(OUT_CHUNK) * 3 + b"x" * (5 * OUT_CHUNK + 7)  # several output chunks per member
    path = tmp_path / "multi.gz"
    path.write_bytes(gzip.compress(big) + gzip.compress(b"second member") + b"\x00" * 10)
    with gzip.open(path) as g:
        assert _read_all(path) == big + b"second member" == g.read()
    with ThreadedGzipReader(path) as r:
        assert r.read(-1) == big + b"second member"


def test_truncated_stream_raises_eof_after_the_data_it_had(tmp_path):
    data = b"<a>" + b"y" * 200_000 + b"</a>"
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(data)[:-30])
    with ThreadedGzipReader(path) as r, pytest.raises(EOFError):
        got = b""
        while chunk := r.read(4096):
            got += chunk
    assert data.startswith(got) and len(got) > 100_000


def test_garbage_after_a_member_and_corrupt_data_raise(tmp_path):
    path = tmp_path / "junk.gz"
    path.write_bytes(gzip.compress(b"ok") + b"junk")
    with pytest.raises(gzip.BadGzipFile):
        _read_all(path)
    raw = bytearray(gzip.compress(os.urandom(5000)))
    raw[20:40] = b"\xff" * 20
    path.write_bytes(bytes(raw))
    with pytest.raises((zlib.error, EOFError)):
        _read_all(path)


def test_closing_early_stops_the_thread(tmp_path):
    path = tmp_path / "big.gz"
    path.write_bytes(gzip.compress(b"z" * (20 * OUT_CHUNK), compresslevel=1))
    r = ThreadedGzipReader(path)
    assert r.read(10) == b"z" * 10
    r.close()
    assert not r._thread.is_alive()
