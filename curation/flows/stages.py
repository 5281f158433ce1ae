"""One Prefect flow per registered stage, generated from the registry; its body is the generic runner with the
Prefect executor, so the stage's units of work are task runs of the stage's own flow run, and its summary
artifacts attach there. `run_stage_flow` picks the task runner (threads or Ray) for the stage's configuration."""

from __future__ import annotations

import datetime as dt
import functools
import inspect
from pathlib import Path
from typing import Any

from prefect import Flow, flow
from pydantic import BaseModel

from curation.flows.concurrency import warehouse_slot
from curation.flows.executor import PrefectExecutor, task_runner
from curation.orchestrate.runner import StageResult, run_stage
from curation.stages import STAGES, Stage


def _load(manifest_path: str | None) -> Any:
    from curation.manifest import load_manifest

    return load_manifest(manifest_path) if manifest_path else None


def _threads(name: str, manifest: Any) -> int:
    stage = STAGES.get(name)
    return stage.threads(manifest.section(stage.section) if manifest is not None else stage.config())


@functools.cache
def stage_flow(name: str) -> Flow[..., dict[str, Any]]:
    """The flow of a registered stage: `flow(manifest_path, warehouse, *, <the stage's params>)`; returns the
    summary dict. Its signature carries the params model's fields with their types, defaults and descriptions, so
    a deployment of it gets a typed parameter schema (the Prefect UI's run form)."""
    stage = STAGES.get(name)

    def body(manifest_path: str | None = None, warehouse: str = "warehouse", **params: Any) -> dict[str, Any]:
        manifest = _load(manifest_path)
        executor = PrefectExecutor(_threads(name, manifest))
        with warehouse_slot(warehouse):  # one flow run per warehouse at a time (curation/flows/concurrency.py)
            result: StageResult = run_stage(name, Path(warehouse), manifest, params, executor=executor)
        return {"status": result.status, "run_id": result.run_id, "message": result.message, **result.summary}

    body.__name__ = body.__qualname__ = f"{name}_flow"
    body.__signature__ = _signature(stage.params)  # type: ignore[attr-defined]
    body.__doc__ = _docstring(stage)
    run_name = functools.partial(lambda n: f"{n}-{dt.datetime.now(dt.UTC):%Y-%m-%d-%H%M%S}", name)
    return flow(name=name, flow_run_name=run_name, log_prints=True)(body)


def _signature(params: type[BaseModel]) -> inspect.Signature:
    plain = inspect.Parameter.POSITIONAL_OR_KEYWORD
    fixed = [
        inspect.Parameter("manifest_path", plain, default=None, annotation=str | None),
        inspect.Parameter("warehouse", plain, default="warehouse", annotation=str),
    ]
    options = [
        inspect.Parameter(
            n,
            inspect.Parameter.KEYWORD_ONLY,
            default=f.get_default(call_default_factory=True),
            annotation=f.annotation,
        )
        for n, f in params.model_fields.items()
    ]
    return inspect.Signature([*fixed, *options], return_annotation=dict[str, Any])


def _docstring(stage: Stage) -> str:
    """The stage's description and, in the Google style Prefect reads, each parameter's description."""
    args = {
        "manifest_path": "build manifest (YAML); the stage's defaults when omitted",
        "warehouse": "warehouse directory",
        **{n: f.description or n for n, f in stage.params.model_fields.items()},
    }
    lines = "\n".join(f"    {n}: {d}" for n, d in args.items())
    return f"{stage.description[0].upper()}{stage.description[1:]}.\n\nArgs:\n{lines}\n"


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
    return fl(manifest_path, warehouse, **(params or {}))


def __getattr__(attr: str) -> Flow[..., dict[str, Any]]:
    """`<stage>_flow` for every registered stage: the entrypoints of the stage deployments
    (curation.flows.stages:ingest_flow, ...)."""
    name = attr.removesuffix("_flow")
    if attr.endswith("_flow") and name in STAGES.names():
        return stage_flow(name)
    raise AttributeError(attr)
