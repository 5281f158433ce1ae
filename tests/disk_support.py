"""Real, small filesystems for full-disk (ENOSPC) tests: a tmpfs mounted for one test (needs root; the fixtures
skip elsewhere), and helpers to fill it and to list what a failed write left behind."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def tmpfs(mnt: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted at `mnt` (created) for the block; skips the test where mounting is not permitted."""
    mnt.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    res = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)], capture_output=True, text=True
    )
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()}")
    try:
        yield mnt
        assert open_files(mnt) == []  # a deleted file left open keeps its space: the disk would stay full
    finally:
        subprocess.run(["umount", "--lazy", str(mnt)], check=True)  # never leave a mount behind


@pytest.fixture
def tiny_fs(tmp_path):
    """1 MiB."""
    with tmpfs(tmp_path / "tiny", "1m") as mnt:
        yield mnt


@pytest.fixture
def small_fs(tmp_path):
    """16 MiB: room for a Data Docs site (its static assets take 4 MB)."""
    with tmpfs(tmp_path / "small", "16m") as mnt:
        yield mnt


def open_files(mnt: Path) -> list[str]:
    found = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith(str(mnt)):
                found.append(target)
    return found


def fill(mnt: Path, leave: int = 0) -> None:
    """Take the free space of the filesystem, but `leave` bytes."""
    free = shutil.disk_usage(mnt).free - leave
    with contextlib.suppress(OSError), open(mnt / "filler", "wb") as f:
        f.write(os.urandom(max(free, 0)))


def hidden(root: Path) -> list[str]:
    """Hidden files and directories under `root`: temp and staging files are hidden."""
    return sorted(str(p.relative_to(root)) for p in root.rglob(".*"))


def all_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
