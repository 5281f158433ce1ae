"""Build flow: run a manifest's stages in pipeline order, each as a subflow, in one parent flow run."""

from __future__ import annotations

import importlib
from typing import Any

from prefect import flow, get_run_logger

from curation.manifest import STAGE_ORDER, load_manifest

# stage -> "module:flow". Every stage flow takes (manifest_path, warehouse) and returns a summary dict.
STAGE_FLOWS: dict[str, str] = {
    "ingest": "flows.ingest:ingest_flow",
    "dedup": "flows.dedup:dedup_flow",
    "score": "flows.score:score_flow",
    "decontam": "flows.decontam:decontam_flow",
    "synth": "flows.synth:synth_flow",
    "validate": "flows.validate:validate_flow",
    "release": "flows.release:release_flow",
}
assert tuple(STAGE_FLOWS) == STAGE_ORDER


def stage_flow(stage: str):
    module, _, name = STAGE_FLOWS[stage].partition(":")
    return getattr(importlib.import_module(module), name)


@flow(name="build", log_prints=True)
def build_flow(manifest_path: str, warehouse: str) -> dict[str, Any]:
    logger = get_run_logger()
    manifest = load_manifest(manifest_path)
    summaries: dict[str, Any] = {}
    for stage in manifest.stages:
        logger.info("stage %s", stage)
        summaries[stage] = stage_flow(stage)(manifest_path=manifest_path, warehouse=warehouse)
    return summaries
