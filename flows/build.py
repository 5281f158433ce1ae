"""Build flow: run a manifest's stages in pipeline order, each as a subflow, in one parent flow run.

The build holds the warehouse lock for its whole run (stage subflows re-enter it), skips a stage whose fingerprint
matches its last successful run (curation/orchestrate/fingerprint.py), and records each stage as ran, skipped,
or unavailable (no generator reachable), in a `build` run record and a Prefect artifact.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import time
from typing import Any

from prefect import flow, get_run_logger

from curation.manifest import STAGE_ORDER, Manifest, load_manifest
from curation.orchestrate.fingerprint import (
    load_state,
    run_output_tables,
    save_state,
    stage_fingerprint,
    stage_tables,
)
from curation.warehouse import Warehouse, refresh_catalog, start_run
from curation.warehouse.lock import warehouse_lock
from flows.common import publish_markdown

# stage -> "module:flow". Every stage flow takes (manifest_path, warehouse) and returns a summary dict; a flow that
# also takes `runner` / `ray_address` gets the build's task runner choice.
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


def generator_unavailable_types() -> tuple[type[BaseException], ...]:
    """The synthesis stage's 'no model reachable' error."""
    from curation.synth.engine import GeneratorUnavailable

    return (GeneratorUnavailable,)


def select_stages(manifest: Manifest, from_stage: str | None = None, to_stage: str | None = None) -> list[str]:
    """The manifest's stages between `from_stage` and `to_stage` (inclusive, in pipeline order)."""
    for name in (from_stage, to_stage):
        if name is not None and name not in STAGE_ORDER:
            raise ValueError(f"unknown stage {name!r}; stages: {', '.join(STAGE_ORDER)}")
    lo = STAGE_ORDER.index(from_stage) if from_stage else 0
    hi = STAGE_ORDER.index(to_stage) if to_stage else len(STAGE_ORDER) - 1
    chosen = [s for s in manifest.stages if lo <= STAGE_ORDER.index(s) <= hi]
    if not chosen:
        raise ValueError(f"no stage of the manifest ({', '.join(manifest.stages)}) is in {from_stage}..{to_stage}")
    return chosen


def _call_stage(stage: str, manifest_path: str, warehouse: str, runner: str, ray_address: str | None) -> Any:
    fn = stage_flow(stage)
    accepted = inspect.signature(fn.fn).parameters
    kwargs: dict[str, Any] = {"manifest_path": manifest_path, "warehouse": warehouse}
    if "runner" in accepted:
        kwargs["runner"] = runner
    if "ray_address" in accepted and ray_address:
        kwargs["ray_address"] = ray_address
    return fn(**kwargs)


@flow(name="build", log_prints=True)
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
    logger = get_run_logger()
    manifest = load_manifest(manifest_path)
    stages = select_stages(manifest, from_stage, to_stage)
    wh = Warehouse(warehouse).ensure()
    unavailable = generator_unavailable_types()
    results: dict[str, dict[str, Any]] = {}
    params = {
        "manifest": manifest_path,
        "manifest_sha256": manifest.sha256,
        "stages": stages,
        "force": force,
        "runner": runner,
        "ray_address": ray_address,
    }
    with warehouse_lock(wh, command=f"build {manifest_path}"), start_run(wh, "build", params) as run:
        for stage in stages:
            fingerprint, _ = stage_fingerprint(manifest, wh, stage)
            previous = load_state(wh, stage) or {}
            if not force and previous.get("fingerprint") == fingerprint:
                reason = f"inputs unchanged since run {previous.get('run_id')}"
                logger.info("stage %s skipped: %s", stage, reason)
                results[stage] = {"status": "skipped", "reason": reason, "run_id": previous.get("run_id")}
                run.count("stages_skipped")
                continue
            logger.info("stage %s: running", stage)
            t0 = time.perf_counter()
            try:
                with run.timed(stage):
                    summary = _call_stage(stage, manifest_path, str(wh.root), runner, ray_address) or {}
            except unavailable as e:
                summary = {"status": "unavailable", "message": str(e)}
            if summary.get("status") in ("skipped", "unavailable"):
                # It did not do its work (no generator): record why, save no fingerprint so the next build retries
                # it, and go on: later stages (validate, release) work with what exists.
                reason = summary.get("message") or summary.get("reason") or "stage reported it could not run"
                logger.warning("stage %s unavailable: %s", stage, reason)
                results[stage] = {
                    "status": "unavailable",
                    "reason": reason,
                    "run_id": summary.get("run_id"),
                    "seconds": round(time.perf_counter() - t0, 3),
                }
                run.count("stages_unavailable")
                continue
            seconds = round(time.perf_counter() - t0, 3)
            run_id = summary.get("run_id")
            tables = stage_tables(wh, stage) | run_output_tables(wh, run_id)
            fingerprint, _ = stage_fingerprint(manifest, wh, stage, own=tables)  # with the tables it just wrote
            save_state(
                wh,
                stage,
                {
                    "stage": stage,
                    "fingerprint": fingerprint,
                    "run_id": run_id,
                    "tables": sorted(tables),
                    "build_run_id": run.run_id,
                    "finished_at": dt.datetime.now(dt.UTC).isoformat(),
                },
            )
            results[stage] = {"status": "ran", "run_id": run_id, "seconds": seconds, "summary": summary}
            run.count("stages_ran")
        run.set("extra", "stages", results)
        refresh_catalog(wh)
    publish_markdown(
        f"build-{manifest.name}", _build_markdown(manifest.name, run.run_id, results), f"build of {manifest.name}"
    )
    return results


def _build_markdown(name: str, run_id: str, results: dict[str, dict[str, Any]]) -> str:
    rows = "\n".join(
        f"| {stage} | {r['status']} | {r.get('seconds', '')} | `{r.get('run_id') or ''}` | {r.get('reason', '')} |"
        for stage, r in results.items()
    )
    return (
        f"# build `{name}` (`{run_id}`)\n\n| stage | status | seconds | run | note |\n|---|---|---|---|---|\n{rows}\n"
    )
