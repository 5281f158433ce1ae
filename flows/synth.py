"""Synth flow: passages, then for each task one Prefect task per batch (generate, check, publish a unit).

When no generator is reachable the stage is recorded as skipped (run status "skipped", with the message saying how
to configure one) and returns normally, so a build's later stages still run; `medcurate synth` turns that into an
error exit. Batches run one after another: the in-process engine batches internally, and the server client keeps
`concurrency` requests in flight.
"""

from __future__ import annotations

import logging
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import MissingContextError

from curation.decontam.config import DecontamConfig
from curation.synth.engine import Engine, GeneratorUnavailable, Sampling
from curation.synth.progress import notify
from curation.synth.runner import STAGE, BatchStats, run_batch
from curation.synth.stage import (
    batches,
    open_engine,
    prepare_passages,
    record_totals,
    remove_stale_units,
    sampling_of,
    unit_prefix,
)
from curation.synth.tasks import PASSAGE_TASKS, make_task
from curation.synth.tasks.base import Task
from curation.warehouse import RunRecorder, Warehouse, connect, refresh_catalog, start_run
from flows.common import publish_run_artifact


def _logger() -> logging.Logger | logging.LoggerAdapter:
    """Prefect's run logger inside a flow, a plain logger when run_synth is called directly (tests, notebooks)."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("medcurate.synth")


@task(name="synth-batch", cache_policy=NO_CACHE)
def batch_task(
    warehouse: str, t: Task, engine: Engine, rows: list[dict], sampling: Sampling, run_id: str, unit: str
) -> BatchStats:
    return run_batch(Warehouse(warehouse), t, engine, rows, sampling, run_id, unit)


def _run_task(wh: Warehouse, t: Task, engine: Engine, run: RunRecorder, passages_unit: str | None, cfg) -> dict:
    logger = _logger()
    sampling = sampling_of(cfg)
    prefix = unit_prefix(t, engine.model_id, sampling)
    total_inputs = sum(1 for _ in t.inputs(wh, passages_unit))
    total, written = BatchStats(), set()
    notify(t.name, 0, total_inputs)
    for i, rows in enumerate(batches(t, wh, passages_unit, cfg.batch_size)):
        unit = f"{prefix}{i:05d}"
        stats = batch_task(str(wh.root), t, engine, rows, sampling, run.run_id, unit)
        written.add(unit)
        run.add_output(t.table, unit, stats.rows, quarantined=stats.quarantined, cache_hits=stats.cache_hits)
        total.add(stats)
        notify(t.name, total.inputs, total_inputs)
        logger.info(
            "%s batch %d: %d inputs -> %d rows, %d quarantined", t.name, i, stats.inputs, stats.rows, stats.quarantined
        )
    stale = remove_stale_units(wh, t, prefix, written)
    summary = record_totals(run, t.name, total)
    return {**summary, "stale_units_removed": stale}


def run_synth(
    cfg,
    warehouse: str,
    tasks: list[str] | None = None,
    use_cache: bool = True,
    params: dict | None = None,
    inner: Engine | None = None,
    decontam: DecontamConfig | None = None,
) -> dict[str, Any]:
    """The stage body; `decontam` (the manifest's settings) checks the generated rows against the evaluation
    items right away, since the build runs the decontam stage before synth. `inner` lets a caller that already holds a loaded engine (a notebook, the test session,
    the benchmark) reuse it instead of loading the configured model again. The caller then owns its lifetime."""
    logger = _logger()
    wh = Warehouse(warehouse).ensure()
    names = tasks or list(cfg.tasks)
    task_objs = [make_task(n, cfg) for n in names]
    try:
        engine = open_engine(cfg, wh, use_cache, inner)
    except GeneratorUnavailable as e:
        run = RunRecorder(wh, STAGE, params)
        run.error(str(e), kind="GeneratorUnavailable")
        run.finish("skipped")
        logger.warning("synth skipped: no generator. %s", e)
        return {"run_id": run.run_id, "status": "skipped", "reason": "no generator", "message": str(e)}
    try:
        with start_run(wh, STAGE, params) as run:
            run.set("models", "generator", {"model": engine.model_id, "fingerprint": engine.fingerprint()})
            run.set(
                "extra", "cache", {"enabled": engine.enabled, "path": str(engine.cache.path) if engine.cache else None}
            )
            passages_unit = None
            if PASSAGE_TASKS & set(names):
                with run.timed("passages"):
                    p = prepare_passages(cfg, wh, engine, run.run_id)
                passages_unit = p.unit
                run.add_output("passages", p.unit, p.passages)
                run.count("passages", p.passages)
                run.count("passage_docs", p.docs)
                run.quarantined({"passages": p.quarantined} if p.quarantined else {})
                run.set(
                    "extra",
                    "passage_filters",
                    {"applied": p.filters_applied, "skipped_absent_columns": p.filters_skipped},
                )
            per_task = {}
            for t in task_objs:
                with run.timed(t.name):
                    per_task[t.name] = _run_task(wh, t, engine, run, passages_unit, cfg)
            run.set("extra", "prompts", {t.name: t.prompt_id for t in task_objs})
            if decontam is not None:
                with run.timed("decontam"):
                    run.set("extra", "decontam", _decontaminate(wh, [t.table for t in task_objs], decontam, run.run_id))
            run.set("timings_s", "model_load", round(engine.load_s, 3))
    finally:
        if inner is None:
            engine.close()
    refresh_catalog(wh)
    record = run.snapshot()
    publish_run_artifact(record)
    return {
        "run_id": run.run_id,
        "status": "completed",
        "rows": sum(s["rows"] for s in per_task.values()),
        "quarantined": record["counts"].get("quarantined", 0),
        "cache_hits": sum(s["cache_hits"] for s in per_task.values()),
        "tasks": per_task,
    }


def _decontaminate(wh: Warehouse, tables: list[str], cfg: DecontamConfig, run_id: str) -> list[dict[str, Any]]:
    """Annotate generated records in synthetic_decontam (release keeps only rows checked and clean)."""
    from curation.decontam import annotate_table
    from curation.decontam.index import EvalIndex

    con = connect(wh)
    index = EvalIndex.from_warehouse(con, cfg)
    return [annotate_table(wh, t, index, run_id, con=con) for t in tables if wh.files(t)]


@flow(name="synth", log_prints=True)
def synth_flow(
    manifest_path: str, warehouse: str, tasks: list[str] | None = None, no_cache: bool = False
) -> dict[str, Any]:
    from curation.manifest import load_manifest

    manifest = load_manifest(manifest_path)
    cfg = manifest.synth
    if cfg.model and manifest.resolve(cfg.model).is_dir():  # a relative model dir is relative to the manifest
        cfg = cfg.model_copy(update={"model": str(manifest.resolve(cfg.model))})
    params = {"manifest": manifest_path, "manifest_sha256": manifest.sha256, "tasks": tasks, "no_cache": no_cache}
    return run_synth(cfg, warehouse, tasks, not no_cache, params, decontam=manifest.decontam)
