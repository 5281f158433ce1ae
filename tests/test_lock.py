"""The warehouse lock: exclusion with a clear error, re-entrancy, stale-lock recovery after SIGKILL, leases."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from curation.warehouse import ShardWriter
from curation.warehouse.lock import WarehouseLocked, is_held, read_holder, warehouse_lock

HOLD = """
import sys, time
from curation.warehouse.lock import warehouse_lock
with warehouse_lock(sys.argv[1], command="holder-under-test"):
    print("held", flush=True)
    time.sleep(600)
"""


def _start_holder(root) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(root)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "held"
    return p


def test_second_writer_gets_an_error_naming_the_holder(wh):
    holder = _start_holder(wh.root)
    try:
        with pytest.raises(WarehouseLocked) as e, warehouse_lock(wh, command="me"):
            pass
        msg = str(e.value)
        assert f"pid {holder.pid}" in msg and socket.gethostname() in msg and "holder-under-test" in msg
        assert e.value.holder["started_at"]
        t0 = time.monotonic()
        with pytest.raises(WarehouseLocked), warehouse_lock(wh, timeout=0.6):
            pass
        assert time.monotonic() - t0 >= 0.5  # waited for the holder before giving up
    finally:
        holder.terminate()
        holder.wait()


def test_lock_is_reentrant_and_released(wh):
    with warehouse_lock(wh, command="outer") as outer:
        assert is_held(wh) and outer["pid"] == os.getpid()
        with warehouse_lock(str(wh.root), command="inner") as inner:
            assert inner["command"] == "outer"  # the same acquisition
        assert is_held(wh) and read_holder(wh.root)["command"] == "outer"
    assert not is_held(wh) and read_holder(wh.root) is None


def test_killed_holder_is_recovered_and_its_staging_swept(wh):
    holder = _start_holder(wh.root)
    w = ShardWriter(wh, "documents", "u1")
    w._staging = wh.staging_dir("documents", "u1")  # a crashed writer's half-written unit
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert read_holder(wh.root)["pid"] == holder.pid  # the record survives the crash
    with warehouse_lock(wh, command="next") as rec:
        assert rec["stale"]["pid"] == holder.pid and rec["swept"] == 1
    assert not list(wh.table_dir("documents").glob(".tmp-*"))


def _foreign_record(root, age_s: float) -> None:
    beat = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=age_s)).isoformat()
    (root / ".lock.json").write_text(
        json.dumps(
            {"pid": 4242, "host": "other-node", "command": "build elsewhere", "started_at": beat, "heartbeat_at": beat}
        )
    )


def test_live_lease_on_another_host_blocks_and_expired_one_is_taken_over(wh, monkeypatch):
    monkeypatch.setenv("MEDCURATE_LOCK_LEASE_S", "30")
    _foreign_record(wh.root, age_s=1)
    with pytest.raises(WarehouseLocked, match="pid 4242 on host other-node"), warehouse_lock(wh):
        pass
    _foreign_record(wh.root, age_s=60)
    with warehouse_lock(wh) as rec:
        assert rec["stale"]["host"] == "other-node"


def test_heartbeat_refreshes_the_record(wh, monkeypatch):
    monkeypatch.setenv("MEDCURATE_LOCK_LEASE_S", "0.3")
    with warehouse_lock(wh):
        first = read_holder(wh.root)["heartbeat_at"]
        time.sleep(0.5)
        assert read_holder(wh.root)["heartbeat_at"] > first
