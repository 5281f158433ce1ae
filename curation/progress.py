"""Progress of a stage's main loops: one event stream, shown as a live rich display (one line per stage) on a
terminal, and as periodic plain log lines everywhere else (CI logs, Prefect runs and workers, the run's log file).

    for batch in track(batches, total=n_docs, unit="documents", size=len):   # counts documents, not batches
        ...
    with tracker(len(files), "files") as bar:                                # when the loop is not one iterable
        bar.advance(rows=r.rows)

Each event says the stage, its unit of work, done/total, the rate (units/s) and, when the loop reports rows, rows
and rows/s. The generic runner names the current stage (`stage_scope`); listeners (`listen`) receive every event,
which is how the console draws and how tests observe. Log lines (logger `medcurate.progress`) come at most every
MEDCURATE_PROGRESS_INTERVAL seconds (default 10) per loop, and once when a loop ends.

MEDCURATE_PROGRESS=0 turns the live display off on a terminal too, =1 forces it on.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")
ENV = "MEDCURATE_PROGRESS"
INTERVAL_ENV = "MEDCURATE_PROGRESS_INTERVAL"
log = logging.getLogger("medcurate.progress")
Listener = Callable[["ProgressEvent"], None]


@dataclass(frozen=True)
class ProgressEvent:
    stage: str
    unit: str  # what is counted: files, documents, batches, tables, ...
    done: int
    total: int | None
    rate: float  # units per second since the loop started
    rows: int | None = None  # rows written so far, when the loop reports them
    rows_rate: float | None = None
    final: bool = False

    def line(self) -> str:
        """The event as one plain line (no control characters)."""
        of = f"/{self.total}" if self.total is not None else ""
        text = f"{self.stage}: {self.done}{of} {self.unit}, {self.rate:.1f}/s"
        if self.rows is not None:
            text += f"; {self.rows} rows, {self.rows_rate or 0:.1f} rows/s"
        return text + ("; done" if self.final else "")


_lock = threading.Lock()
_listeners: list[Listener] = []
_stage: list[str] = []  # the stage the runner is running (a process runs one stage at a time)


def progress_enabled(is_terminal: bool) -> bool:
    """Draw a live display? On a terminal, unless MEDCURATE_PROGRESS says otherwise."""
    setting = os.environ.get(ENV)
    if setting is not None:
        return setting not in ("0", "false", "no", "")
    return is_terminal


def _interval() -> float:
    return float(os.environ.get(INTERVAL_ENV, "10"))


@contextlib.contextmanager
def listen(listener: Listener) -> Iterator[Listener]:
    """Send every progress event to `listener` while the block runs."""
    with _lock:
        _listeners.append(listener)
    try:
        yield listener
    finally:
        with _lock:
            _listeners.remove(listener)


@contextlib.contextmanager
def stage_scope(name: str) -> Iterator[None]:
    """Events of loops started in the block belong to stage `name`."""
    _stage.append(name)
    try:
        yield
    finally:
        _stage.pop()


def current_stage() -> str:
    return _stage[-1] if _stage else "medcurate"


def _emit(event: ProgressEvent) -> None:
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener(event)


class Tracker:
    """One loop's progress: `advance(n, rows=...)` as work completes; `close()` (or the end of a `with`) sends the
    final event. Sent to a Ray worker it arrives as a silent tracker: the driver reports its own loop."""

    def __init__(self, total: int | None, unit: str, stage: str | None = None, silent: bool = False):
        self.stage, self.unit, self.total, self.silent = stage or current_stage(), unit, total, silent
        self.done, self.rows, self._rows_seen = 0, 0, False
        self._t0 = self._last_log = time.monotonic()
        self._mutex = threading.Lock()
        self._closed = False
        self._send(final=False)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Tracker, (self.total, self.unit, self.stage, True))

    def advance(self, n: int = 1, rows: int | None = None) -> None:
        with self._mutex:
            self.done += n
            if rows is not None:
                self._rows_seen = True
                self.rows += rows
        self._send(final=False)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._send(final=True)

    def __enter__(self) -> Tracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def event(self, final: bool = False) -> ProgressEvent:
        elapsed = max(time.monotonic() - self._t0, 1e-6)
        rows = self.rows if self._rows_seen else None
        return ProgressEvent(
            self.stage,
            self.unit,
            self.done,
            self.total,
            self.done / elapsed,
            rows,
            None if rows is None else rows / elapsed,
            final,
        )

    def _send(self, final: bool) -> None:
        if self.silent:
            return
        event = self.event(final)
        _emit(event)
        now = time.monotonic()
        if final or (now - self._last_log >= _interval() and self.done != self.total):  # the final line says it
            self._last_log = now
            log.info("%s", event.line())


def tracker(total: int | None, unit: str) -> Tracker:
    """A tracker for a loop of the current stage."""
    return Tracker(total, unit)


def track(items: Iterable[T], total: int | None, unit: str, *, size: Callable[[T], int] | None = None) -> Iterator[T]:
    """Yield `items`, counting each (or `size(item)` units of it, e.g. the rows of a batch) after its work is done."""
    if total is None and hasattr(items, "__len__") and size is None:
        total = len(items)  # type: ignore[arg-type]
    with tracker(total, unit) as bar:
        for item in items:
            yield item
            bar.advance(size(item) if size is not None else 1)


class LiveDisplay:
    """A rich live display: one line per stage (its unit, done/total, a bar and the rate)."""

    def __init__(self, console: Any):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("[bold]{task.fields[stage]:<9}"),
            BarColumn(bar_width=30),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TextColumn("[dim]{task.fields[rate]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, Any] = {}

    def __call__(self, e: ProgressEvent) -> None:
        rate = f"{e.rate:.1f}/s" + (f", {e.rows_rate:.0f} rows/s" if e.rows_rate is not None else "")
        if e.stage not in self.tasks:
            self.tasks[e.stage] = self.progress.add_task(e.unit, total=e.total, stage=e.stage, rate=rate)
        self.progress.update(self.tasks[e.stage], description=e.unit, total=e.total, completed=e.done, rate=rate)


_live: list[LiveDisplay] = []


def live_active() -> bool:
    return bool(_live)


@contextlib.contextmanager
def display(console: Any) -> Iterator[None]:
    """A live display on `console` while the block runs, when it is a terminal (and MEDCURATE_PROGRESS allows);
    otherwise the periodic log lines are all there is."""
    if not progress_enabled(console.is_terminal):
        yield
        return
    live = LiveDisplay(console)
    _live.append(live)
    try:
        with live.progress, listen(live):
            yield
    finally:
        _live.remove(live)
