"""Every registered stage holds the warehouse lock through the generic runner: while another process holds it, a
stage refuses at once (naming the holder) or waits up to its lock timeout; the sub-actions that write hold it too."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from curation.orchestrate.runner import run_stage
from curation.stages import STAGES, stage_names
from curation.warehouse.lock import WarehouseLocked
from tests.cli_helpers import invoke_cli

HOLD = (
    "import sys, time\nfrom curation.warehouse.lock import warehouse_lock\n"
    "with warehouse_lock(sys.argv[1], command='medcurate dedup (other)'):\n"
    "    print('held', flush=True)\n    time.sleep(float(sys.argv[2]))\n"
)


@pytest.fixture
def holder(wh):
    procs = []

    def hold(seconds: float = 600) -> subprocess.Popen:
        p = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(wh.root), str(seconds)], stdout=subprocess.PIPE, text=True
        )
        assert p.stdout.readline().strip() == "held"
        procs.append(p)
        return p

    yield hold
    for p in procs:
        p.kill()
        p.wait()


@pytest.mark.parametrize("stage", stage_names())
def test_every_stage_refuses_a_held_lock(wh, holder, stage, tmp_path):
    p = holder()
    src = tmp_path / "one.jsonl"  # a stage that needs input (ingest) gets some, so it reaches the lock
    src.write_text('{"id": "1", "text": "one document"}\n')
    params = {"paths": [str(src)], "format": "jsonl"} if STAGES.get(stage).takes_paths else {}
    t0 = time.monotonic()
    with pytest.raises(WarehouseLocked, match=rf"locked by pid {p.pid} .*medcurate dedup \(other\)"):
        run_stage(stage, wh, params=params)
    assert time.monotonic() - t0 < 10
    assert not list(wh.runs_dir.glob(f"*-{stage}-*.json"))  # refused before any run record


def test_a_stage_waits_for_the_lock_up_to_its_timeout(wh, holder):
    holder(seconds=3)
    t0 = time.monotonic()
    res = run_stage("dedup", wh, lock_timeout=60)
    assert res.status == "completed" and time.monotonic() - t0 >= 1.5


def test_cli_waits_then_exits_2_naming_the_holder(wh, holder):
    p = holder()
    t0 = time.monotonic()
    res = invoke_cli("-w", str(wh.root), "--lock-timeout", "1.5", "dedup")
    assert res.exit_code == 2 and time.monotonic() - t0 >= 1.5
    msg = " ".join(res.output.split())
    assert f"locked by pid {p.pid}" in msg and "since" in msg and "medcurate dedup (other)" in msg
    res = invoke_cli("-w", str(wh.root), "score", "train-lm", "--steps", "1")
    assert res.exit_code == 2 and f"locked by pid {p.pid}" in " ".join(res.output.split())


def test_a_run_record_left_running_is_closed_by_the_next_writer(wh):
    """A process that ended without closing its record (the disk was full when it tried) leaves `running`; the next
    process to take the lock marks it interrupted, since no other writer can be running then."""
    import json

    from curation.warehouse.runs import RunRecorder, load_run

    left = RunRecorder(wh, "dedup", {})
    left.save()
    assert load_run(wh, left.run_id)["status"] == "running"
    run_stage("dedup", wh)
    rec = load_run(wh, left.run_id)
    assert rec["status"] == "interrupted" and "ended without closing" in json.dumps(rec["errors"])
