"""The build flow: a manifest's stages in order as subflows of one flow run (see curation/orchestrate/build.py for
what is skipped and why); a markdown artifact summarizes the build."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from prefect import flow

from curation.flows.concurrency import warehouse_slot
from curation.flows.executor import PrefectExecutor
from curation.flows.stages import run_stage_flow
from curation.orchestrate.build import build_markdown, run_build
from curation.orchestrate.runner import StageResult
from curation.warehouse import Warehouse


def _run_name() -> str:
    from prefect.runtime import flow_run

    manifest = Path(str(flow_run.parameters.get("manifest_path", "build"))).stem
    return f"build-{manifest}-{dt.datetime.now(dt.UTC):%Y-%m-%d-%H%M%S}"


@flow(name="build", flow_run_name=_run_name, log_prints=True)
def build_flow(
    manifest_path: str,
    warehouse: str,
    from_stage: str | None = None,
    to_stage: str | None = None,
    force: bool = False,
    runner: str = "threads",
    ray_address: str | None = None,
) -> dict[str, Any]:
    """Run the selected stages; returns {stage: {status, reason, run_id, seconds, summary}}."""
    with warehouse_slot(warehouse):  # one flow run per warehouse at a time (curation/flows/concurrency.py)
        return _build(manifest_path, warehouse, from_stage, to_stage, force, runner, ray_address)


def _build(
    manifest_path: str,
    warehouse: str,
    from_stage: str | None,
    to_stage: str | None,
    force: bool,
    runner: str,
    ray_address: str | None,
) -> dict[str, Any]:
    from curation.manifest import load_manifest

    manifest = load_manifest(manifest_path)
    wh = Warehouse(warehouse)

    def run_one(stage: str, params: dict[str, Any]) -> StageResult:
        s = run_stage_flow(stage, manifest_path, str(wh.root), params, runner, ray_address)
        return StageResult(stage, s["run_id"], s["status"], s, message=s.get("message", ""))

    outcome = run_build(
        manifest,
        wh,
        run_one,
        from_stage=from_stage,
        to_stage=to_stage,
        force=force,
        params={"runner": runner, "ray_address": ray_address},
    )
    PrefectExecutor(1).publish(
        f"build-{manifest.name}", build_markdown(manifest.name, outcome.run_id, outcome.stages), {}
    )
    return outcome.stages
