"""Opening source files: transparent gzip, strict UTF-8 (a wrong encoding is an error, not mojibake)."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import IO


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def open_binary(path: Path) -> IO[bytes]:
    """Decompress when the file is gzip, judged by its magic bytes rather than its name."""
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")


def open_text(path: Path, encoding: str = "utf-8") -> IO[str]:
    return gzip.open(path, "rt", encoding=encoding) if is_gzip(path) else open(path, encoding=encoding)
