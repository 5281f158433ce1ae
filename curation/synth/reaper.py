"""Reaper for the processes vLLM starts (engine core, workers).

vLLM's engine core runs in a child process that does not notice when the process that started it dies. After a
SIGKILL or an OOM kill of a build it would go on holding its memory (RAM on CPU, the GPU's memory on CUDA) and the
build's stdout/stderr, and the rerun would start a second engine beside it. The reaper is a small process that is
given the pids to watch over a pipe; when the pipe closes, which the kernel does when the parent exits for any
reason, it stops those that are still alive (SIGTERM, then SIGKILL after a grace period).

    python -m curation.synth.reaper        # reads "pid create_time" lines on stdin
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterable

import psutil

GRACE_S = 5.0


class Reaper:
    """Handle of a running reaper: `watch(pids)` registers processes; `close()` ends it (the processes it watches
    are expected to have been shut down normally by then; any still alive are stopped)."""

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "curation.synth.reaper"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    @property
    def pid(self) -> int:
        return self._proc.pid

    def watch(self, processes: Iterable[psutil.Process]) -> None:
        assert self._proc.stdin is not None
        for p in processes:
            self._proc.stdin.write(f"{p.pid} {p.create_time()!r}\n")
        self._proc.stdin.flush()

    def close(self) -> None:
        if self._proc.stdin is not None and not self._proc.stdin.closed:
            self._proc.stdin.close()
            self._proc.wait(timeout=GRACE_S + 10)


def new_children(before: set[int]) -> list[psutil.Process]:
    """Descendants of this process that were not in `before` (multiprocessing's resource tracker excluded: it
    exits by itself once every process that uses it has gone, after cleaning up shared memory)."""
    out = []
    for c in psutil.Process().children(recursive=True):
        try:
            if c.pid not in before and "resource_tracker" not in " ".join(c.cmdline()):
                out.append(c)
        except psutil.NoSuchProcess:
            continue
    return out


def child_pids() -> set[int]:
    return {c.pid for c in psutil.Process().children(recursive=True)}


def _alive(watched: list[tuple[int, float]]) -> list[psutil.Process]:
    procs = []
    for pid, created in watched:
        try:
            p = psutil.Process(pid)
            if p.create_time() == created:  # not a later process that reused the pid
                procs.extend([p, *p.children(recursive=True)])
        except psutil.NoSuchProcess:
            continue
    return procs


def _stop(procs: list[psutil.Process]) -> None:
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.terminate()
    _, alive = psutil.wait_procs(procs, timeout=GRACE_S)
    for p in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()


def main() -> None:
    watched: list[tuple[int, float]] = []
    for line in sys.stdin:  # ends when the parent closes the pipe or dies
        pid, created = line.split()
        watched.append((int(pid), float(created)))
    time.sleep(0.2)  # a normal shutdown in progress finishes on its own
    _stop(_alive(watched))


if __name__ == "__main__":
    main()
