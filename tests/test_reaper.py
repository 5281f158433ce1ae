"""The reaper stops the processes it watches when its parent dies (as vLLM's engine core must after a SIGKILLed
build), and leaves them alone while the parent lives."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]

PARENT = textwrap.dedent(
    """
    import os, signal, subprocess, sys, time
    import psutil
    from curation.synth.reaper import Reaper, child_pids, new_children

    before = child_pids()
    reaper = Reaper()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    reaper.watch(new_children(before | {reaper.pid}))
    print(child.pid, reaper.pid, flush=True)
    if sys.argv[1] == "crash":
        time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(1.0)
    assert child.poll() is None, "the reaper must not touch a watched process while its parent lives"
    child.terminate(); child.wait()
    reaper.close()
    print("closed", flush=True)
    """
)


def _run(mode: str) -> tuple[subprocess.CompletedProcess, int, int]:
    r = subprocess.run(
        [sys.executable, "-c", PARENT, mode],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    child, reaper = map(int, r.stdout.split()[:2])
    return r, child, reaper


def _gone(pid: int, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


def test_watched_process_is_stopped_when_the_parent_is_killed():
    r, child, reaper = _run("crash")
    assert r.returncode == -signal.SIGKILL
    try:
        assert _gone(child), "the orphaned child outlived its SIGKILLed parent"
        assert _gone(reaper), "the reaper must exit once its work is done"
    finally:
        for pid in (child, reaper):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_normal_close_ends_the_reaper_and_spares_nothing_alive():
    r, child, reaper = _run("normal")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[-1] == "closed"
    assert _gone(child, 1) and _gone(reaper, 1)
