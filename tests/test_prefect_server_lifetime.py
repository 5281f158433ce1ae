"""The temporary Prefect server a `--prefect` command starts does not outlive the command (issue 16, item 7): not
when the command is killed with SIGKILL the moment the server is spawned (before it even answers), and not when it
is ended with SIGTERM mid-run (curation/flows/server.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from curation.warehouse import Warehouse

SERVER_APP = "prefect.server.api.server:create_app"


def _start(tmp_path) -> subprocess.Popen:
    wh = Warehouse(tmp_path / "wh").ensure()
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env |= {"PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    return subprocess.Popen(
        [sys.executable, "-m", "curation.cli", "-w", str(wh.root), "validate", "--prefect"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _server_of(cli: subprocess.Popen, timeout: float = 120.0) -> psutil.Process:
    """The uvicorn process of the command's temporary server, as soon as it exists."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert cli.poll() is None, "the command ended before its server started"
        for child in psutil.Process(cli.pid).children(recursive=True):
            try:
                if SERVER_APP in " ".join(child.cmdline()):
                    return child
            except psutil.NoSuchProcess:
                continue
        time.sleep(0.05)
    pytest.fail("no temporary Prefect server appeared")


def _watchdogs_of(cli: subprocess.Popen) -> list[psutil.Process]:
    return [p for p in psutil.Process(cli.pid).children() if "-c" in p.cmdline() and "psutil" in " ".join(p.cmdline())]


def _gone(procs: list[psutil.Process], within: float) -> list[psutil.Process]:
    """The processes still running (not zombies) after `within` seconds."""
    _, alive = psutil.wait_procs(procs, timeout=within)
    return [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def test_sigkill_as_the_server_spawns(tmp_path):
    cli = _start(tmp_path)
    server = _server_of(cli)
    watchdogs = _watchdogs_of(cli)
    cli.kill()
    cli.wait()
    assert len(watchdogs) == 1
    assert _gone([server, *watchdogs], within=10.0) == []


def test_sigterm_mid_run(tmp_path):
    cli = _start(tmp_path)
    server = _server_of(cli)
    time.sleep(3.0)  # the server answers and the flow is running
    assert cli.poll() is None
    cli.send_signal(signal.SIGTERM)
    assert cli.wait(timeout=30) != 0
    assert _gone([server], within=5.0) == []
