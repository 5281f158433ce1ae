"""Safe release paths: names that become directories, and deletion only of what medcurate itself created.

A release name, version or config name from a manifest becomes a path component, so it must be one plain name (no
separator, not `.` or `..`). Staging and spill directories carry a marker file; the sweep of a crashed release
removes only marked directories, and every removal is checked by resolved path to lie inside the release root.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from curation.release.errors import ReleaseError

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+\-]{0,127}$")
MARKER = ".medcurate-staging"
STAGING_PREFIXES = (".tmp-", ".spill-")


def safe_name(kind: str, value: str) -> str:
    """`value` as one directory name, or a ReleaseError naming `kind` (e.g. "release.name")."""
    if not SAFE_NAME.match(value) or ".." in value:
        raise ReleaseError(
            f"{kind} {value!r} cannot be used as a directory name: use letters, digits, '.', '_', '+' and '-', "
            "starting with a letter or digit, without '..' or '/'"
        )
    return value


def inside(path: Path, root: Path) -> bool:
    """True when `path` resolves to a strict descendant of `root` (symlinks followed)."""
    p, r = path.resolve(), root.resolve()
    return p != r and p.is_relative_to(r)


def remove_tree(path: Path, root: Path) -> None:
    """rmtree, refused (ReleaseError) unless `path` resolves inside `root`."""
    if not inside(path, root):
        raise ReleaseError(f"refusing to delete {path}: it is not inside the release directory {root}")
    shutil.rmtree(path, ignore_errors=True)


def make_marked_dir(path: Path) -> Path:
    """A staging or spill directory that the sweep may later recognise as medcurate's own."""
    path.mkdir(parents=True)
    (path / MARKER).write_text("created by medcurate release; removed when the release finishes\n")
    return path


def sweep_stale(name_dir: Path, root: Path) -> list[Path]:
    """Remove staging and spill directories a crashed release left in `name_dir`: only marked ones inside `root`."""
    removed: list[Path] = []
    if not name_dir.is_dir():
        return removed
    for d in sorted(name_dir.iterdir()):
        if d.name.startswith(STAGING_PREFIXES) and d.is_dir() and not d.is_symlink() and (d / MARKER).is_file():
            remove_tree(d, root)
            removed.append(d)
    return removed


def missing_dirs(path: Path) -> list[Path]:
    """`path` and its ancestors that do not exist yet, deepest first: what a failed release must not leave behind."""
    out = []
    for p in [path, *path.parents]:
        if p.exists():
            break
        out.append(p)
    return out


def remove_empty(dirs: list[Path]) -> None:
    """Remove each directory (deepest first) while it is empty; stop at the first one that is not."""
    for d in dirs:
        if not d.exists():
            continue
        try:
            d.rmdir()
        except OSError:
            return
