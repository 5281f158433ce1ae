"""The build flow: stage subflows, skip when inputs are unchanged, --from/--to/--force, an unavailable generator,
the lock, and the run artifacts (read back through the Prefect API of the test harness)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

import curation.flows.build as build
from curation.errors import UserError
from curation.orchestrate.build import select_stages
from curation.orchestrate.fingerprint import load_state
from curation.stages import STAGES
from curation.warehouse import Warehouse, connect
from tests.orchestration_data import write_manifest, write_medqa_files


def fake_validate(ctx) -> dict:
    """A downstream stage reading what ingest wrote; writes only its run record."""
    n = connect(ctx.warehouse).execute("select count(*) from benchmark_items").fetchone()[0]
    ctx.run.count("validate.items_checked", n)
    return {"items_checked": n}


@pytest.fixture
def project(tmp_path, monkeypatch):
    real = STAGES.get("validate")
    monkeypatch.setitem(STAGES._items, "validate", dataclasses.replace(real, run=fake_validate))
    write_medqa_files(tmp_path / "src", n_files=2, rows=5)
    return tmp_path


def _run(project, stages, **kw):
    manifest = write_manifest(project / "m.yaml", stages)
    return build.build_flow(manifest_path=str(manifest), warehouse=str(project / "wh"), **kw)


def _statuses(results):
    return {s: r["status"] for s, r in results.items()}


def test_unchanged_stages_are_skipped_and_changed_inputs_rerun(prefect_harness, project):
    first = _run(project, ["ingest", "validate"])
    assert _statuses(first) == {"ingest": "ran", "validate": "ran"}
    assert first["validate"]["summary"]["items_checked"] == 10
    wh = Warehouse(project / "wh")
    assert load_state(wh, "ingest")["run_id"] == first["ingest"]["run_id"]

    second = _run(project, ["ingest", "validate"])
    assert _statuses(second) == {"ingest": "skipped", "validate": "skipped"}
    assert second["validate"]["run_id"] == first["validate"]["run_id"]

    write_medqa_files(project / "src", n_files=3, rows=5)  # a new file (and rewritten old ones, same content)
    third = _run(project, ["ingest", "validate"])
    assert _statuses(third) == {"ingest": "ran", "validate": "ran"}
    assert third["ingest"]["summary"]["files_ingested"] == 1  # the ledger still skips unchanged content
    assert third["validate"]["summary"]["items_checked"] == 15

    forced = _run(project, ["ingest", "validate"], from_stage="validate", force=True)
    assert _statuses(forced) == {"validate": "ran"}

    build_runs = [r for r in connect(wh).execute("select stage, status from runs").fetchall() if r[0] == "build"]
    assert build_runs == [("build", "completed")] * 4


def test_removed_outputs_make_a_stage_run_again(prefect_harness, project):
    _run(project, ["ingest"])
    wh = Warehouse(project / "wh")
    wh.remove_unit("benchmark_items", wh.units("benchmark_items")[0])
    again = _run(project, ["ingest"])
    assert again["ingest"]["status"] == "ran"


def test_unavailable_generator_is_recorded_and_other_stages_complete(prefect_harness, project):
    """The real synth flow with an endpoint nobody listens on: recorded as unavailable with the message, no saved
    fingerprint (the next build retries it), and the stages before and after it still run."""
    manifest = write_manifest(project / "m.yaml", ["ingest", "synth", "validate"])
    with manifest.open("a") as f:
        f.write("synth: {engine: openai, endpoints: ['http://127.0.0.1:9/v1'], tasks: [mcq_cot]}\n")
    results = build.build_flow(manifest_path=str(manifest), warehouse=str(project / "wh"))
    assert _statuses(results) == {"ingest": "ran", "synth": "unavailable", "validate": "ran"}
    assert "127.0.0.1:9" in results["synth"]["reason"]
    wh = Warehouse(project / "wh")
    assert load_state(wh, "ingest") and load_state(wh, "synth") is None
    assert connect(wh).execute("select count(*) from benchmark_items").fetchone()[0] == 10
    again = build.build_flow(manifest_path=str(manifest), warehouse=str(project / "wh"))
    assert _statuses(again) == {"ingest": "skipped", "synth": "unavailable", "validate": "skipped"}


def test_stage_range_selection(project):
    from curation.manifest import load_manifest

    m = load_manifest(write_manifest(project / "m.yaml", ["ingest", "synth", "validate"]))
    assert select_stages(m) == ["ingest", "synth", "validate"]
    assert select_stages(m, "dedup", "synth") == ["synth"]
    assert select_stages(m, to_stage="ingest") == ["ingest"]
    with pytest.raises(UserError, match=r"unknown stage 'sinth'"):
        select_stages(m, "sinth")
    with pytest.raises(UserError, match="no stage of the manifest"):
        select_stages(m, "release")


def test_run_artifacts_are_published(prefect_harness, project):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    results = _run(project, ["ingest", "validate"], force=True)
    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["ingest-run"])))
        builds = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["build-orchestration-test"]))
        )
    assert any(results["ingest"]["run_id"] in a.data for a in arts)
    ingest_md = next(a.data for a in arts if results["ingest"]["run_id"] in a.data)
    assert "| answer_not_in_options | 2 |" in ingest_md and "| benchmark_items | 10 |" in ingest_md
    assert any("| validate | ran |" in a.data for a in builds)


def test_cli_build_refuses_a_locked_warehouse(project):
    hold = (
        "import sys, time\nfrom curation.warehouse.lock import warehouse_lock\n"
        "with warehouse_lock(sys.argv[1], command='other build'):\n    print('held', flush=True)\n    time.sleep(600)\n"
    )
    wh = project / "wh"
    holder = subprocess.Popen([sys.executable, "-c", hold, str(wh)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        manifest = write_manifest(project / "m.yaml", ["ingest"])
        r = subprocess.run(
            [sys.executable, "-m", "curation.cli", "-w", str(wh), "build", str(manifest)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert r.returncode == 2
        message = " ".join(r.stderr.split())  # rich wraps long lines
        assert f"locked by pid {holder.pid}" in message and "other build" in message
    finally:
        holder.kill()
        holder.wait()


def test_runs_show_prints_stage_table_counts_and_reasons(prefect_harness, project):
    from typer.testing import CliRunner

    from curation.cli import app

    results = _run(project, ["ingest", "synth", "validate"])
    wh = str(project / "wh")
    build_id = connect(Warehouse(wh)).execute("select run_id from runs where stage = 'build'").fetchone()[0]
    shown = CliRunner().invoke(app, ["-w", wh, "runs", "show", build_id], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "unavailable" in shown.output and "no generator model configured" in shown.output
    assert results["validate"]["status"] == "ran"
    ingest = CliRunner().invoke(app, ["-w", wh, "runs", "show", results["ingest"]["run_id"]], env={"COLUMNS": "200"})
    assert "answer_not_in_options" in ingest.output and "benchmark_items" in ingest.output
    assert "files_ingested" in ingest.output
