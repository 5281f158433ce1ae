"""The scheduled and on-demand deployments, defined once: `medcurate serve` serves them, `medcurate deploy`
registers them with a server and work pool, and prefect.yaml lists the same (tests/test_deployments.py checks it).

The scheduled ones run the build flow over a manifest (a parameter), restricted to a stage range; the build skips
stages whose inputs are unchanged, so a weekly run after an update file only redoes what the new file touches.
Each built-in stage also has an on-demand deployment of its own flow (`<stage>/<stage>-stage`), whose parameters
are the stage's params model, typed (curation/flows/stages.py), so the Prefect UI shows a form.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curation.errors import UserError

DEFAULT_MANIFEST = "manifests/demo.yaml"
DEFAULT_WAREHOUSE = "warehouse"
DEFAULT_POOL = "medcurate"
TIMEZONE = "UTC"
RUN_ENV = {"PREFECT_LOGGING_EXTRA_LOGGERS": "medcurate", "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore"}


@dataclass(frozen=True)
class DeploymentSpec:
    name: str
    flow: str  # "module:function"
    description: str
    cron: str | None = None  # None: on demand
    stages: tuple[str | None, str | None] = (None, None)  # (from_stage, to_stage)
    tags: tuple[str, ...] = field(default_factory=tuple)

    def parameters(self, manifest: str = DEFAULT_MANIFEST, warehouse: str = DEFAULT_WAREHOUSE) -> dict[str, Any]:
        params: dict[str, Any] = {"manifest_path": manifest, "warehouse": warehouse}
        if self.stages[0]:
            params["from_stage"] = self.stages[0]
        if self.stages[1]:
            params["to_stage"] = self.stages[1]
        return params

    def load_flow(self):
        module, _, name = self.flow.partition(":")
        return getattr(importlib.import_module(module), name)

    @property
    def file_entrypoint(self) -> str:
        """The entrypoint as prefect.yaml writes it (path/to/file.py:function)."""
        module, _, name = self.flow.partition(":")
        return f"{module.replace('.', '/')}.py:{name}"


def builtin_stages() -> list[str]:
    """medcurate's own stages (a plugin's stages are deployed by the plugin's own prefect.yaml, not this one)."""
    from curation.stages import pipeline

    return [s.name for s in pipeline() if s.run.__module__.startswith("curation.")]


def _stage_deployment(stage: str) -> DeploymentSpec:
    return DeploymentSpec(
        f"{stage}-stage",
        f"curation.flows.stages:{stage}_flow",
        f"On demand: the {stage} stage alone, with its typed options.",
        tags=("stage", stage),
    )


DEPLOYMENTS: tuple[DeploymentSpec, ...] = (
    DeploymentSpec(
        "pubmed-weekly-update",
        "curation.flows.build:build_flow",
        "Weekly: ingest new PubMed update files, then incremental dedup, score and decontamination.",
        cron="0 3 * * 1",
        stages=("ingest", "decontam"),
        tags=("weekly", "ingest"),
    ),
    DeploymentSpec(
        "nightly-synth",
        "curation.flows.build:build_flow",
        "Nightly: synthesize from the current corpus (cached responses are never paid twice).",
        cron="0 1 * * *",
        stages=("synth", "synth"),
        tags=("nightly", "synth"),
    ),
    DeploymentSpec(
        "release",
        "curation.flows.build:build_flow",
        "On demand: validate and cut a versioned release.",
        stages=("validate", "release"),
        tags=("release",),
    ),
    DeploymentSpec(
        "build",
        "curation.flows.build:build_flow",
        "On demand: the manifest's whole build (unchanged stages are skipped).",
        tags=("build",),
    ),
    *(_stage_deployment(stage) for stage in builtin_stages()),
)


def spec(name: str) -> DeploymentSpec:
    for d in DEPLOYMENTS:
        if d.name == name:
            return d
    raise UserError(f"no deployment {name!r}; deployments: {', '.join(d.name for d in DEPLOYMENTS)}")


def runner_deployments(
    names: list[str] | None = None,
    manifest: str = DEFAULT_MANIFEST,
    warehouse: str = DEFAULT_WAREHOUSE,
    work_pool: str | None = None,
    paused: bool = False,
):
    """RunnerDeployments for `serve` (work_pool None) or `deploy` (module entrypoints, importable by a worker
    wherever medcurate is installed, so no image or code storage is needed)."""
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron

    chosen = [spec(n) for n in names] if names else list(DEPLOYMENTS)
    out = []
    for d in chosen:
        schedules = [Cron(d.cron, timezone=TIMEZONE, active=not paused)] if d.cron else None
        out.append(
            d.load_flow().to_deployment(
                name=d.name,
                description=d.description,
                schedules=schedules,
                # absolute, so a worker started in any directory finds them
                parameters=d.parameters(str(Path(manifest).resolve()), str(Path(warehouse).resolve())),
                tags=list(d.tags),
                work_pool_name=work_pool,
                entrypoint_type=EntrypointType.MODULE_PATH if work_pool else EntrypointType.FILE_PATH,
                # the worker's flow-run process sends medcurate's log lines to the API too
                job_variables={"env": RUN_ENV} if work_pool else None,
            )
        )
    return out
