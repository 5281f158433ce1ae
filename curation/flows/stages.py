"""One Prefect flow per registered stage, generated from the registry; its body is the generic runner with the
Prefect executor, so the stage's units of work are task runs of the stage's own flow run, and its summary
artifacts attach there. `run_stage_flow` picks the task runner (threads or Ray) for the stage's configuration."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any

from prefect import Flow, flow

from curation.flows.executor import PrefectExecutor, task_runner
from curation.orchestrate.runner import StageResult, run_stage
from curation.stages import STAGES


def _load(manifest_path: str | None) -> Any:
    from curation.manifest import load_manifest

    return load_manifest(manifest_path) if manifest_path else None


def _threads(name: str, manifest: Any) -> int:
    stage = STAGES.get(name)
    return stage.threads(manifest.section(stage.section) if manifest is not None else stage.config())


@functools.cache
def stage_flow(name: str) -> Flow[..., dict[str, Any]]:
    """The flow of a registered stage: `flow(manifest_path, warehouse, params)`; returns the summary dict."""
    stage = STAGES.get(name)

    def body(
        manifest_path: str | None = None, warehouse: str = "warehouse", params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        manifest = _load(manifest_path)
        executor = PrefectExecutor(_threads(name, manifest))
        result: StageResult = run_stage(name, Path(warehouse), manifest, params, executor=executor)
        return {"status": result.status, "run_id": result.run_id, "message": result.message, **result.summary}

    body.__name__ = f"{name}_flow"
    body.__doc__ = stage.description
    run_name = functools.partial(lambda n: f"{n}-{dt.datetime.now(dt.UTC):%Y-%m-%d-%H%M%S}", name)
    return flow(name=name, flow_run_name=run_name, log_prints=True)(body)


def run_stage_flow(
    name: str,
    manifest_path: str | None,
    warehouse: str,
    params: dict[str, Any] | None = None,
    runner: str = "threads",
    ray_address: str | None = None,
) -> dict[str, Any]:
    """Run a stage's flow with its units on the chosen task runner."""
    threads = _threads(name, _load(manifest_path))
    fl = stage_flow(name).with_options(task_runner=task_runner(runner, threads, ray_address))
    return fl(manifest_path=manifest_path, warehouse=warehouse, params=params or {})
