"""The warehouse lock: one writing process per warehouse at a time.

Two builds writing one warehouse would interleave units, race on the ingest ledger and sweep each other's staging
directories. Every writing command and flow therefore holds this lock:

- `flock` on `<warehouse>/.lock` is the lock itself. The kernel drops it when the holder dies (even by SIGKILL),
  so a crashed holder never blocks the next run on the same host.
- `<warehouse>/.lock.json` names the holder (pid, host, command, start time) for the error message, and carries a
  heartbeat. `flock` on a network filesystem may not exclude processes on other hosts, so a record written by a
  live process on another host with a fresh heartbeat also counts as held; once its lease expires, it is stale.
- A holder record left behind with no live holder is a crash: the new holder says so and sweeps the staging
  directories the crashed writer left (`Warehouse.sweep_staging`), and marks the run records it left `running`
  as `interrupted`.

Acquisition is re-entrant within a process: the build holds the lock while its stage subflows (which take it
too) run in the same process.
"""

from __future__ import annotations

from curation.errors import UserError

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curation.warehouse.runs import mark_interrupted
from curation.warehouse.store import Warehouse, atomic_write_text

LEASE_ENV = "MEDCURATE_LOCK_LEASE_S"
DEFAULT_LEASE_S = 120.0
log = logging.getLogger(__name__)


class WarehouseLocked(UserError, RuntimeError):
    """Another live process holds the warehouse lock; the message names it."""

    def __init__(self, root: Path, holder: dict[str, Any]):
        self.holder = holder
        super().__init__(
            f"warehouse {root} is locked by pid {holder.get('pid')} on host {holder.get('host')} "
            f"running {holder.get('command')!r} since {holder.get('started_at')}; wait for it to finish "
            f"(or stop that process: a dead holder's lock is recovered automatically)"
        )


@dataclass
class _Held:
    fd: int
    depth: int
    record: dict[str, Any]
    stop: threading.Event
    heartbeat: threading.Thread
    stale: dict[str, Any] | None
    swept: int


_held: dict[Path, _Held] = {}
_guard = threading.Lock()


def lease_seconds() -> float:
    return float(os.environ.get(LEASE_ENV, DEFAULT_LEASE_S))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_holder(root: Path) -> dict[str, Any] | None:
    """The holder record, or None when there is none (or it is unreadable: a writer died mid-write)."""
    try:
        return json.loads((root / ".lock.json").read_text())
    except (OSError, ValueError):
        return None


def _live_elsewhere(holder: dict[str, Any], lease: float) -> bool:
    """A record from another host counts as held while its heartbeat is fresh (flock may not span hosts)."""
    if holder.get("host") == socket.gethostname():
        return False
    try:
        beat = dt.datetime.fromisoformat(holder["heartbeat_at"])
    except (KeyError, ValueError):
        return False
    return (_now() - beat).total_seconds() < lease


def _beat(root: Path, record: dict[str, Any], stop: threading.Event, lease: float) -> None:
    while not stop.wait(max(lease / 3, 0.05)):
        record["heartbeat_at"] = _now().isoformat()
        with contextlib.suppress(OSError):
            atomic_write_text(root / ".lock.json", json.dumps(record))


def _acquire(wh: Warehouse, command: str, timeout: float) -> _Held:
    root = wh.ensure().root
    fd = os.open(root / ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    lease = lease_seconds()
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            previous = read_holder(root)
            if previous and _live_elsewhere(previous, lease):
                fcntl.flock(fd, fcntl.LOCK_UN)
                raise BlockingIOError
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise WarehouseLocked(root, read_holder(root) or {"pid": "?", "host": "?"}) from None
            time.sleep(0.2)
    record = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": command,
        "started_at": _now().isoformat(),
        "heartbeat_at": _now().isoformat(),
        "lease_s": lease,
    }
    atomic_write_text(root / ".lock.json", json.dumps(record))
    swept = wh.sweep_staging()
    if previous:
        note = f"interrupted: its process (pid {previous.get('pid')} on {previous.get('host')}) died"
        interrupted = mark_interrupted(wh, str(previous.get("started_at", "")), note)
        log.warning(
            "recovered a stale warehouse lock of pid %s on %s (%r, since %s); swept %d staging dirs; "
            "marked runs %s interrupted",
            previous.get("pid"), previous.get("host"), previous.get("command"), previous.get("started_at"), swept,
            interrupted,
        )
    # Holding the lock, no other writer is running: a record still `running` was left by a process that ended
    # without closing it (the disk was full when it tried, say).
    if left := mark_interrupted(wh, "", "interrupted: its process ended without closing the run record"):
        log.warning("marked runs %s interrupted: left running by an earlier process", left)
    stop = threading.Event()
    beat = threading.Thread(target=_beat, args=(root, record, stop, lease), daemon=True, name="warehouse-lock")
    beat.start()
    return _Held(fd, 1, record, stop, beat, previous, swept)


def _release(root: Path, held: _Held) -> None:
    held.stop.set()
    held.heartbeat.join(timeout=5)
    with contextlib.suppress(FileNotFoundError):
        (root / ".lock.json").unlink()
    fcntl.flock(held.fd, fcntl.LOCK_UN)
    os.close(held.fd)


def default_command() -> str:
    return " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])[:500]


@contextlib.contextmanager
def warehouse_lock(
    warehouse: Warehouse | str | os.PathLike[str], command: str | None = None, *, timeout: float = 0.0
) -> Iterator[dict[str, Any]]:
    """Hold the warehouse lock for the block; yields the holder record (with `stale` and `swept` on first entry).

    Waits up to `timeout` seconds for a live holder, then raises WarehouseLocked naming it.
    """
    wh = warehouse if isinstance(warehouse, Warehouse) else Warehouse(warehouse)
    root = wh.root
    with _guard:  # held while acquiring, so two threads of one process share one acquisition
        held = _held.get(root)
        if held is not None:
            held.depth += 1
        else:
            held = _held[root] = _acquire(wh, command or default_command(), timeout)
    try:
        yield {**held.record, "stale": held.stale, "swept": held.swept}
    finally:
        with _guard:
            held.depth -= 1
            last = held.depth == 0
            if last:
                del _held[root]
        if last:
            _release(root, held)


def is_held(warehouse: Warehouse | str | os.PathLike[str]) -> bool:
    """Whether this process holds the lock (a stage may assert it before writing)."""
    root = warehouse.root if isinstance(warehouse, Warehouse) else Warehouse(warehouse).root
    return root in _held
