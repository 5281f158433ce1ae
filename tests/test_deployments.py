"""Deployments: prefect.yaml agrees with curation/flows/deployments.py; `medcurate deploy` registers them with a real Prefect
server on loopback and a process worker runs a triggered build; `medcurate serve` serves them and runs one.

The two tests use disjoint deployment names: one name is either served or deployed on a server (see
docs/orchestration.md)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from curation.flows.concurrency import limit_name
from curation.flows.deployments import DEFAULT_POOL, DEPLOYMENTS, TIMEZONE, spec
from curation.warehouse import Warehouse, connect
from tests.orchestration_data import write_manifest, write_medqa_files

ROOT = Path(__file__).resolve().parents[1]


def test_prefect_yaml_agrees_with_the_definitions():
    doc = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    listed = {d["name"]: d for d in doc["deployments"]}
    assert set(listed) == {d.name for d in DEPLOYMENTS}
    for d in DEPLOYMENTS:
        y = listed[d.name]
        assert y["entrypoint"] == d.file_entrypoint and (ROOT / y["entrypoint"].split(":")[0]).is_file()
        assert y["parameters"] == d.parameters()
        assert y["description"] == d.description and tuple(y["tags"]) == d.tags
        assert y["work_pool"]["name"] == DEFAULT_POOL
        expected = [{"cron": d.cron, "timezone": TIMEZONE}] if d.cron else []
        assert y["schedules"] == expected


def _typed_fields(schema: dict) -> dict[str, object]:
    """{parameter: its JSON type, or the enum of a Literal} from a parameter_openapi_schema."""
    out: dict[str, object] = {}
    for name, prop in schema["properties"].items():
        kinds = [k for k in prop.get("anyOf", [prop]) if k.get("type") != "null"]
        out[name] = kinds[0].get("enum") or kinds[0].get("type")
    return out


def test_stage_deployments_have_the_typed_parameters_of_the_stage_params_model():
    from prefect.utilities.callables import parameter_schema

    from curation.stages import STAGES

    stage_specs = [d for d in DEPLOYMENTS if "stage" in d.tags]
    assert {d.tags[1] for d in stage_specs} >= {"ingest", "deid", "dedup", "score", "decontam", "validate", "release"}
    for d in stage_specs:
        model = STAGES.get(d.tags[1]).params
        schema = parameter_schema(d.load_flow()).model_dump()
        assert list(schema["properties"]) == ["manifest_path", "warehouse", *model.model_fields]
        for name, field in model.model_fields.items():
            assert schema["properties"][name]["description"] == field.description
    release = _typed_fields(parameter_schema(spec("release-stage").load_flow()).model_dump())
    assert release == {
        "manifest_path": "string",
        "warehouse": "string",
        "version": "string",
        "out": "string",
        "force": "boolean",
        "publish": "string",
        "dry_run": "boolean",
    }
    deid = _typed_fields(parameter_schema(spec("deid-stage").load_flow()).model_dump())
    assert deid["recognizers"] == ["pattern", "full"] and deid["force"] == "boolean"
    score = parameter_schema(spec("score-stage").load_flow()).model_dump()["properties"]["only"]
    assert score["type"] == "array" and score["items"] == {"type": "string"}


def _env(url: str) -> dict[str, str]:
    return {**os.environ, "PREFECT_API_URL": url, "PYTHONPATH": str(ROOT), "MEDCURATE_PROGRESS": "0"}


def _project(tmp_path: Path) -> tuple[Path, Path]:
    write_medqa_files(tmp_path / "src", n_files=2, rows=4)
    return write_manifest(tmp_path / "m.yaml", ["ingest"]), tmp_path / "wh"


def _wait_for_run(client, flow_run_id, timeout: float = 300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.read_flow_run(flow_run_id)
        if run.state and run.state.is_final():
            return run
        time.sleep(1)
    raise AssertionError(f"flow run {flow_run_id} not finished: {run.state}")


@pytest.mark.slow
def test_deploy_registers_schedules_and_a_worker_runs_a_triggered_build(prefect_server, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    manifest, wh = _project(tmp_path)
    r = subprocess.run(  # relative paths, from the project directory: stored absolute
        [
            sys.executable,
            "-m",
            "curation.cli",
            "-w",
            "wh",
            "deploy",
            "--manifest",
            "m.yaml",
            "--pool",
            "test-pool",
            "--only",
            "pubmed-weekly-update",
            "--only",
            "nightly-synth",
            "--only",
            "release",
            "--only",
            "deid-stage",
        ],
        env=_env(prefect_server),
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    print(f"\n$ medcurate -w wh deploy --manifest m.yaml --pool test-pool ...  (cwd {tmp_path})\n{r.stdout}")
    with temporary_settings({PREFECT_API_URL: prefect_server}), get_client(sync_client=True) as client:
        weekly = client.read_deployment_by_name("build/pubmed-weekly-update")
        assert weekly.work_pool_name == "test-pool" and weekly.entrypoint == "curation.flows.build.build_flow"
        assert weekly.parameters == {
            "manifest_path": str(manifest.resolve()),
            "warehouse": str(wh.resolve()),
            "from_stage": "ingest",
            "to_stage": "decontam",
        }
        assert [(s.schedule.cron, s.schedule.timezone, s.active) for s in weekly.schedules] == [
            ("0 3 * * 1", "UTC", True)
        ]
        nightly = client.read_deployment_by_name("build/nightly-synth")
        assert [s.schedule.cron for s in nightly.schedules] == ["0 1 * * *"]
        assert nightly.parameters["from_stage"] == nightly.parameters["to_stage"] == "synth"
        assert client.read_deployment_by_name("build/release").schedules == []
        deid = client.read_deployment_by_name("deid/deid-stage")  # typed parameters: a form in the UI
        assert deid.entrypoint == "curation.flows.stages.deid_flow"
        assert _typed_fields(deid.parameter_openapi_schema)["recognizers"] == ["pattern", "full"]
        limit = client.read_global_concurrency_limit_by_name(limit_name(wh))  # one flow run per warehouse
        assert limit.limit == 1 and limit.active

        run = client.create_flow_run_from_deployment(weekly.id)
        elsewhere = tmp_path / "elsewhere"  # the worker runs from another directory
        elsewhere.mkdir()
        worker = subprocess.run(
            [sys.executable, "-m", "prefect", "worker", "start", "--pool", "test-pool", "--run-once"],
            env=_env(prefect_server),
            capture_output=True,
            text=True,
            timeout=400,
            cwd=elsewhere,
        )
        done = _wait_for_run(client, run.id)
        print(f"$ prefect worker start --pool test-pool --run-once  (cwd {elsewhere})")
        print(f"flow run {done.name}: {done.state.name}")
        assert done.state.is_completed(), f"{done.state}\n{worker.stdout[-3000:]}\n{worker.stderr[-3000:]}"
        assert done.name.startswith("build-m-")  # flow_run_name template: build-<manifest>-<date>
        from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey, LogFilter, LogFilterName

        logs = client.read_logs(log_filter=LogFilter(name=LogFilterName(any_=["medcurate", "medcurate.progress"])))
        assert any("ingest run" in log.message and "started" in log.message for log in logs)
        assert any(log.message.startswith("ingest: 2/2 files, ") for log in logs)  # progress as plain log lines
        arts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["ingest-run"])))
        print("logs in the API:\n" + "\n".join(f"  {log.name}: {log.message[:110]}" for log in logs[:12]))
        print(f"artifacts: {sorted({a.key for a in arts})}")
        assert arts and "benchmark_items" in arts[0].data
    n = connect(Warehouse(wh)).execute("select count(*) from benchmark_items").fetchone()[0]
    assert n == 8


@pytest.mark.slow
def test_serve_runs_a_triggered_deployment(prefect_server, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import PREFECT_API_URL, temporary_settings

    manifest, wh = _project(tmp_path)
    serve = subprocess.Popen(
        [sys.executable, "-m", "curation.cli", "-w", str(wh), "serve", "--manifest", str(manifest), "--only", "build"],
        env=_env(prefect_server),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        with temporary_settings({PREFECT_API_URL: prefect_server}), get_client(sync_client=True) as client:
            deadline = time.monotonic() + 180
            while True:
                try:
                    dep = client.read_deployment_by_name("build/build")
                    if dep.parameters.get("warehouse") == str(wh.resolve()):
                        break
                except ObjectNotFound:
                    pass
                if serve.poll() is not None or time.monotonic() > deadline:
                    serve.kill()
                    raise AssertionError(f"serve did not register deployments:\n{serve.stdout.read()[-3000:]}")
                time.sleep(1)
            assert dep.schedules == [] and dep.parameters["manifest_path"] == str(manifest.resolve())
            run = client.create_flow_run_from_deployment(dep.id)
            done = _wait_for_run(client, run.id)
            if not done.state.is_completed():
                serve.terminate()
                raise AssertionError(f"{done.state}\n{serve.communicate(timeout=30)[0][-4000:]}")
    finally:
        serve.terminate()
        try:
            serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            serve.kill()
    n = connect(Warehouse(wh)).execute("select count(*) from benchmark_items").fetchone()[0]
    assert n == 8


HOLD_SLOT = """
import sys
from curation.flows.concurrency import warehouse_slot
with warehouse_slot(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.read()
"""


@pytest.mark.slow
def test_flow_runs_on_one_warehouse_wait_for_its_slot(prefect_server, tmp_path):
    """Another process holds the warehouse's slot (as a running build would): a second process's slot request on it
    times out, one on another warehouse does not, and a stage flow run on it waits without touching the warehouse
    until the slot is free, then runs."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from curation.flows.concurrency import warehouse_slot

    manifest, wh = _project(tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_SLOT, str(wh)],
        env=_env(prefect_server),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    second = None
    try:
        assert holder.stdout.readline().strip() == "held"
        with temporary_settings({PREFECT_API_URL: prefect_server}):
            with pytest.raises(TimeoutError), warehouse_slot(wh, timeout_s=3):
                pass
            with warehouse_slot(tmp_path / "other-warehouse", timeout_s=30):
                pass
            second = subprocess.Popen(
                [sys.executable, "-m", "curation.cli", "-w", str(wh), "ingest", str(manifest), "--prefect"],
                env=_env(prefect_server),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            running = FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.RUNNING])))
            with get_client(sync_client=True) as client:
                deadline = time.monotonic() + 180
                while not any(r.name.startswith("ingest-") for r in client.read_flow_runs(flow_run_filter=running)):
                    assert second.poll() is None and time.monotonic() < deadline, second.communicate()[0][-3000:]
                    time.sleep(0.5)
            time.sleep(3)  # running, waiting for the slot: no stage run has started on the warehouse
            assert second.poll() is None and not list((wh / "runs").glob("*ingest*.json"))
        holder.stdin.close()
        out, _ = second.communicate(timeout=300)
        assert second.returncode == 0, out[-3000:]
        assert list((wh / "runs").glob("*ingest*.json"))
    finally:
        for p in (holder, second):
            if p is not None and p.poll() is None:
                p.kill()
    assert connect(Warehouse(wh)).execute("select count(*) from benchmark_items").fetchone()[0] == 8
