"""A build: a manifest's stages in pipeline order under one warehouse lock and one `build` run record.

A stage whose fingerprint matches its last successful run is skipped (curation/orchestrate/fingerprint.py); a
stage that cannot run here (StageUnavailable: no generator reachable) is recorded as unavailable, saves no
fingerprint (the next build retries it) and the later stages go on with what exists. How each stage runs (in this
process, or as a Prefect subflow) is the caller's `run_one`.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from curation.errors import UserError
from curation.manifest import Manifest
from curation.orchestrate.fingerprint import load_state, run_output_tables, save_state, stage_fingerprint, stage_tables
from curation.orchestrate.runner import StageResult
from curation.stages import STAGES, stage_names
from curation.warehouse import Warehouse, refresh_catalog, start_run
from curation.warehouse.lock import warehouse_lock

log = logging.getLogger("medcurate")


def select_stages(manifest: Manifest, from_stage: str | None = None, to_stage: str | None = None) -> list[str]:
    """The manifest's stages between `from_stage` and `to_stage` (inclusive, in pipeline order)."""
    order = stage_names()
    for name in (from_stage, to_stage):
        if name is not None and name not in order:
            raise UserError(f"unknown stage {name!r}; stages: {', '.join(order)}")
    lo = order.index(from_stage) if from_stage else 0
    hi = order.index(to_stage) if to_stage else len(order) - 1
    chosen = [s for s in manifest.stages if lo <= order.index(s) <= hi]
    if not chosen:
        raise UserError(f"no stage of the manifest ({', '.join(manifest.stages)}) is in {from_stage}..{to_stage}")
    return chosen


@dataclass
class BuildOutcome:
    run_id: str
    stages: dict[str, dict[str, Any]]


def run_build(
    manifest: Manifest,
    wh: Warehouse,
    run_one: Callable[[str, dict[str, Any]], StageResult],
    *,
    from_stage: str | None = None,
    to_stage: str | None = None,
    force: bool = False,
    params: dict[str, Any] | None = None,
    lock_timeout: float = 0.0,
) -> BuildOutcome:
    """Run the selected stages; `stages` of the outcome is {stage: {status, reason, run_id, seconds, summary}}."""
    stages = select_stages(manifest, from_stage, to_stage)
    wh = wh.ensure()
    results: dict[str, dict[str, Any]] = {}
    record = {"manifest": str(manifest.path), "manifest_sha256": manifest.sha256, "stages": stages, "force": force}
    with (
        warehouse_lock(wh, command=f"medcurate build {manifest.path}", timeout=lock_timeout),
        start_run(wh, "build", {**record, **(params or {})}) as run,
    ):
        for stage in stages:
            fingerprint, _ = stage_fingerprint(manifest, wh, stage)
            previous = load_state(wh, stage) or {}
            if not force and previous.get("fingerprint") == fingerprint:
                reason = f"inputs unchanged since run {previous.get('run_id')}"
                log.info("stage %s skipped: %s", stage, reason)
                results[stage] = {"status": "skipped", "reason": reason, "run_id": previous.get("run_id")}
                run.count("build.stages_skipped")
                continue
            log.info("stage %s: running", stage)
            t0 = time.perf_counter()
            with run.timed(stage):  # a forced build replaces what a stage keeps by version (a release)
                res = run_one(stage, {"force": True} if force and STAGES.get(stage).force_in_build else {})
            seconds = round(time.perf_counter() - t0, 3)
            if res.status != "completed":
                log.warning("stage %s unavailable: %s", stage, res.message)
                results[stage] = {
                    "status": "unavailable",
                    "reason": res.message,
                    "run_id": res.run_id,
                    "seconds": seconds,
                }
                run.count("build.stages_unavailable")
                continue
            tables = stage_tables(wh, stage) | run_output_tables(wh, res.run_id)
            fingerprint, _ = stage_fingerprint(manifest, wh, stage, own=tables)  # with the tables it just wrote
            save_state(
                wh,
                stage,
                {
                    "stage": stage,
                    "fingerprint": fingerprint,
                    "run_id": res.run_id,
                    "tables": sorted(tables),
                    "build_run_id": run.run_id,
                    "finished_at": dt.datetime.now(dt.UTC).isoformat(),
                },
            )
            results[stage] = {"status": "ran", "run_id": res.run_id, "seconds": seconds, "summary": res.summary}
            run.count("build.stages_ran")
        run.set("extra", "stages", results)
    refresh_catalog(wh)
    return BuildOutcome(run.run_id, results)


def build_markdown(name: str, run_id: str, results: dict[str, dict[str, Any]]) -> str:
    rows = "\n".join(
        f"| {stage} | {r['status']} | {r.get('seconds', '')} | `{r.get('run_id') or ''}` | {r.get('reason', '')} |"
        for stage, r in results.items()
    )
    return (
        f"# build `{name}` (`{run_id}`)\n\n| stage | status | seconds | run | note |\n|---|---|---|---|---|\n{rows}\n"
    )
