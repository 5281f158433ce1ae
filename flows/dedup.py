"""Dedup flow: signature shards as Prefect tasks, then candidates, clusters and annotations (see curation/dedup)."""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from curation.dedup.config import DedupConfig
from curation.dedup.stage import run_dedup
from curation.warehouse import Warehouse, refresh_catalog, start_run
from flows.common import publish_run_artifact, task_runner

STAGE = "dedup"


@task(name="dedup-sign-shard", cache_policy=NO_CACHE, retries=1)
def _shard_task(fn, *args):
    return fn(*args)


@flow(name="dedup-shards", log_prints=True)
def _dedup_run(warehouse: str, cfg: DedupConfig, params: dict[str, Any]) -> dict[str, Any]:
    wh = Warehouse(warehouse).ensure()
    with start_run(wh, STAGE, params) as run:
        summary = run_dedup(wh, cfg, run, submit=lambda fn, *a: _shard_task.submit(fn, *a))
    refresh_catalog(wh)
    publish_run_artifact(run.snapshot())
    return summary


def dedup_with_config(warehouse: str, cfg: DedupConfig, params: dict[str, Any] | None = None) -> dict[str, Any]:
    params = {**(params or {}), "dedup": cfg.model_dump(mode="json")}
    # Two shard threads per worker: while one waits for its batch's signatures, the other reads or writes.
    return _dedup_run.with_options(task_runner=task_runner("threads", 2 * cfg.workers))(warehouse, cfg, params)


@flow(name="dedup", log_prints=True)
def dedup_flow(manifest_path: str, warehouse: str) -> dict[str, Any]:
    from curation.manifest import load_manifest

    manifest = load_manifest(manifest_path)
    return dedup_with_config(warehouse, manifest.dedup, {"manifest": manifest_path, "manifest_sha256": manifest.sha256})
