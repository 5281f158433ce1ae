"""The temporary Prefect server of a `--prefect` command run without PREFECT_API_URL, tied to the command's life.

Prefect starts that server lazily (`SubprocessASGIServer`, a uvicorn child process) and stops it only from an
`atexit` hook, so a command killed by SIGKILL or the OOM killer, or ended by SIGTERM (whose default action skips
`atexit`), left it running for minutes. `temporary_server()` therefore

- starts Prefect's own server object first (Prefect's clients then reuse it: it is a per-port singleton), so
  Prefect's behaviour does not change;
- stops it when the command ends, including by SIGINT or SIGTERM (turned into SystemExit so `finally` runs);
- pairs it with a watchdog process that stops it when the command dies without running any code at all.

Why a watchdog and not PR_SET_PDEATHSIG: Prefect owns the server's `Popen` (a preexec hook would mean copying
its private launch command), the parent-death signal is tied to the *thread* that forked (Prefect may start the
server from a worker thread, which would kill it when that thread ends), and it is Linux-only. The watchdog runs
from before the server is spawned, in its own session (a terminal's Ctrl-C or a group kill does not reach it). It
learns that the command died from its own reparenting (`os.getppid()` changes, which no PID reuse can fake) and
then stops every process carrying the command's marker in its environment: Prefect copies the environment into
the server (and into a server it restarts on another port), and the marker is set only while the server starts.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from types import FrameType

GRACE_S = 5.0  # SIGTERM, then SIGKILL after this long
POLL_S = 0.2

MARKER = "MEDCURATE_PREFECT_SERVER_OF"

WATCHDOG = """
import os, sys, time
import psutil
parent, token, grace, poll = int(sys.argv[5]), sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
while os.getppid() == parent:
    time.sleep(poll)
def marked(p):
    try:
        return p.pid != os.getpid() and p.environ().get(sys.argv[4]) == token
    except psutil.Error:
        return False
procs = [p for p in psutil.process_iter() if marked(p)]
for p in procs:
    p.terminate()
for p in psutil.wait_procs(procs, timeout=grace)[1]:
    p.kill()
"""


def start_watchdog(token: str) -> subprocess.Popen[bytes]:
    """A process that stops (SIGTERM, then SIGKILL) the processes whose environment has MARKER=`token` once the
    calling process has died."""
    return subprocess.Popen(
        [sys.executable, "-c", WATCHDOG, token, str(GRACE_S), str(POLL_S), MARKER, str(os.getpid())],
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        close_fds=True,
    )


@contextlib.contextmanager
def _marked_environment(token: str) -> Iterator[None]:
    """MARKER=token in os.environ while the block runs: the processes it spawns carry it."""
    os.environ[MARKER] = token
    try:
        yield
    finally:
        os.environ.pop(MARKER, None)


@contextlib.contextmanager
def _sigterm_exits() -> Iterator[None]:
    """SIGTERM raises SystemExit(143) in the main thread, so cleanup runs (SIGINT already raises)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


@contextlib.contextmanager
def temporary_server() -> Iterator[str | None]:
    """Around a command that runs Prefect flows: the temporary server's API URL (None when PREFECT_API_URL names a
    server, which is then left alone)."""
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():
        yield None
        return
    from prefect.server.api.server import SubprocessASGIServer

    token = f"{os.getpid()}-{uuid.uuid4().hex}"
    with _sigterm_exits():
        watchdog = start_watchdog(token)
        server = SubprocessASGIServer()
        try:
            with _marked_environment(token):
                server.start()
            yield server.api_url
        finally:
            server.stop()  # before the watchdog goes: it covers a kill that arrives meanwhile
            watchdog.kill()
            watchdog.wait()
