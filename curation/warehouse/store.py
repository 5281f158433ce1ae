"""The warehouse directory: where each table's units live, and how units are listed, published and removed.

Layout: <root>/<table path>/<unit>/part-NNNNN.parquet. A unit is the output of one piece of work (one source file,
one shard of a stage). It is staged in a hidden directory and published with a single rename, so a reader never
sees a half-written unit, and a crash leaves only hidden staging directories that the next writer removes.
"""

from __future__ import annotations

import collections
import os
import shutil
import signal
import threading
import uuid
from pathlib import Path

from curation.errors import DiskFull, is_disk_full
from curation.warehouse.schemas import TableSchema, all_schemas, load_schema, local_schemas

ENV_VAR = "MEDCURATE_WAREHOUSE"
CRASH_ENV = "MEDCURATE_CRASH_AT"
_published: collections.Counter[str] = collections.Counter()
_published_lock = threading.Lock()


def crash_point(table: str, when: str) -> None:
    """TEST HOOK for the crash-safety tests: MEDCURATE_CRASH_AT=TABLE:N[:before] SIGKILLs this process when the
    N-th unit of TABLE (counted per process) is published (`after`, the default) or about to be (`before`: the
    staged unit is left behind, as by a crash mid-write). Unset, it costs one dict lookup per published unit."""
    spec = os.environ.get(CRASH_ENV)
    if not spec:
        return
    target, n, *point = spec.split(":")
    if target != table:
        return
    if (point[0] if point else "after") != when:
        return
    with _published_lock:  # counted per point: with concurrent writers the N-th "before" and "after" differ
        _published[table] += 1
        hit = _published[table] == int(n)
    if hit:
        os.kill(os.getpid(), signal.SIGKILL)


def default_warehouse() -> Path:
    return Path(os.environ.get(ENV_VAR, "warehouse"))


class Warehouse:
    def __init__(self, root: str | os.PathLike[str] | None = None):
        self.root = Path(root) if root is not None else default_warehouse()
        self.root = self.root.resolve()

    def __repr__(self) -> str:
        return f"Warehouse({str(self.root)!r})"

    def ensure(self) -> Warehouse:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "runs").mkdir(exist_ok=True)
        return self

    @property
    def catalog_path(self) -> Path:
        return self.root / "catalog.duckdb"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    def is_warehouse(self) -> bool:
        """Whether root holds what every writer creates: runs/, catalog.duckdb or a table directory."""
        if not self.root.is_dir():
            return False
        if self.runs_dir.is_dir() or self.catalog_path.is_file():
            return True
        return any((self.root / s.path).is_dir() for s in all_schemas().values())

    def schema(self, table: str) -> TableSchema:
        try:
            return load_schema(table)
        except KeyError:
            local_schemas(self.root)  # a table this warehouse defined (records_<name>), in a new process
            return load_schema(table)

    def table_dir(self, table: str) -> Path:
        return self.root / self.schema(table).path

    def units(self, table: str) -> list[str]:
        d = self.table_dir(table)
        if not d.is_dir():
            return []
        return sorted(p.name for p in d.iterdir() if p.is_dir() and not p.name.startswith("."))

    def has_unit(self, table: str, unit: str) -> bool:
        return (self.table_dir(table) / unit).is_dir()

    def files(self, table: str) -> list[Path]:
        d = self.table_dir(table)
        if not d.is_dir():
            return []
        return sorted(p for u in self.units(table) for p in (d / u).glob("part-*.parquet"))

    def glob(self, table: str) -> str:
        """The DuckDB/pyarrow glob of a table's published parts (hidden staging dirs never match)."""
        return str(self.table_dir(table) / "[!.]*" / "part-*.parquet")

    def staging_dir(self, table: str, unit: str) -> Path:
        d = self.table_dir(table) / f".tmp-{unit}-{uuid.uuid4().hex[:8]}"
        d.mkdir(parents=True)
        return d

    def publish(self, staging: Path, table: str, unit: str) -> Path:
        """Make a staged unit visible with one rename; an existing unit of that name is replaced."""
        crash_point(table, "before")
        final = self.table_dir(table) / unit
        if final.exists():
            trash = final.with_name(f".trash-{unit}-{uuid.uuid4().hex[:8]}")
            os.replace(final, trash)
            os.replace(staging, final)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(staging, final)
        _fsync_dir(final.parent)
        crash_point(table, "after")
        return final

    def remove_unit(self, table: str, unit: str) -> bool:
        final = self.table_dir(table) / unit
        if not final.exists():
            return False
        trash = final.with_name(f".trash-{unit}-{uuid.uuid4().hex[:8]}")
        os.replace(final, trash)
        shutil.rmtree(trash, ignore_errors=True)
        return True

    def sweep_staging(self) -> int:
        """Remove hidden staging/trash dirs left by a crashed writer. Call only while holding the build lock."""
        n = 0
        for d in self.root.rglob(".tmp-*"):
            if d.is_dir():
                shutil.rmtree(d, ignore_errors=True)
                n += 1
        for d in self.root.rglob(".trash-*"):
            shutil.rmtree(d, ignore_errors=True)
            n += 1
        spill = self.root / ".duckdb-spill"  # DuckDB scratch of a killed run (dedup candidates, spill files)
        if spill.is_dir():
            shutil.rmtree(spill, ignore_errors=True)
            n += 1
        return n


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_text(path: Path, text: str, *, table: str | None = None) -> None:
    """Write a small file so that readers see the old or the new content, never a partial one. A full disk raises
    DiskFull naming `table` (default: the file's directory, e.g. `runs` for a run record) and leaves no temp file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        if is_disk_full(e):
            raise DiskFull(table or path.parent.name, path) from e
        raise
