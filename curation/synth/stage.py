"""The synth stage: open the engine, build passages, run each task's batches (one unit of work each), name units,
decontaminate what was generated, sum up the run."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from pydantic import Field

from curation.config_base import StrictModel
from curation.stages import STAGES, Stage, StageContext
from curation.synth.cache import CachedEngine, ResponseCache, cache_path
from curation.synth.config import SynthConfig
from curation.synth.engine import Engine, Sampling
from curation.synth.passages import PassageResult, build_passages, make_counter
from curation.synth.runner import BatchStats, run_batch
from curation.synth.tasks import TASKS, make_task, passage_tasks
from curation.synth.tasks.base import Task
from curation.warehouse import RunRecorder, Warehouse, connect


def open_engine(cfg: SynthConfig, wh: Warehouse, use_cache: bool = True, inner: Engine | None = None) -> CachedEngine:
    """The configured engine (or `inner`) behind the response cache; raises GeneratorUnavailable when nothing is
    reachable."""
    cache = ResponseCache(cache_path(wh)) if use_cache and cfg.cache else None
    return CachedEngine(inner or configured_engine(cfg), cache, enabled=cache is not None)


def configured_engine(cfg: SynthConfig) -> Engine:
    if cfg.engine == "openai":
        from curation.synth.openai_engine import OpenAIEngine

        return OpenAIEngine.from_env_key(
            cfg.endpoints,
            cfg.model,
            cfg.api_key_env,
            api=cfg.api,
            concurrency=cfg.concurrency,
            timeout_s=cfg.timeout_s,
            retries=cfg.retries,
        )
    from curation.synth.vllm_engine import VLLMEngine

    return VLLMEngine(
        cfg.model,
        max_model_len=cfg.max_model_len,
        gpu_memory_utilization=cfg.gpu_memory_utilization,
        seed=cfg.sampling.seed,
        dtype=cfg.dtype,
    )


def sampling_of(cfg: SynthConfig) -> Sampling:
    s = cfg.sampling
    return Sampling(s.temperature, s.top_p, s.max_tokens, s.seed)


def prepare_passages(cfg: SynthConfig, wh: Warehouse, engine: CachedEngine, run_id: str) -> PassageResult:
    """Count tokens with the configured tokenizer, else the in-process model's (recorded under the model's public
    id, not its directory), else the regex fallback."""
    model_dir = getattr(engine.inner, "model_dir", None)
    if cfg.passages.tokenizer or not model_dir:
        name, counter = make_counter(cfg.passages.tokenizer or cfg.model)
    else:
        name, counter = make_counter(str(model_dir), name=engine.model_id)
    return build_passages(wh, cfg.passages, run_id, name, counter)


def unit_prefix(task: Task, model: str, sampling: Sampling) -> str:
    """Units are owned by the parts of a record_id that are not per-input: the same work lands in the same units."""
    key = json.dumps([task.name, task.prompt_version, model, sampling.as_dict()], sort_keys=True)
    return f"{task.name}-{hashlib.sha256(key.encode()).hexdigest()[:12]}-"


def batches(task: Task, wh: Warehouse, passages_unit: str | None, size: int) -> Iterator[list[dict]]:
    it = task.inputs(wh, passages_unit)
    while chunk := list(islice(it, size)):
        yield chunk


def remove_stale_units(wh: Warehouse, task: Task, prefix: str, written: set[str]) -> int:
    """Units of this prefix that this run did not write belong to an older input set: remove them (and their
    quarantine), so the table holds exactly this run's work for this task/model/sampling."""
    n = 0
    for unit in wh.units(task.table):
        if unit.startswith(prefix) and unit not in written:
            wh.remove_unit(task.table, unit)
            wh.remove_unit("quarantine", f"synth-{task.name}-{unit}")
            n += 1
    return n


def record_totals(run: RunRecorder, task: str, total: BatchStats) -> dict:
    fresh = total.output_tokens - total.cached_output_tokens
    tokens = {
        "prompt": total.prompt_tokens,
        "output": total.output_tokens,
        "output_fresh": fresh,
        "cache_hits": total.cache_hits,
        "generate_s": round(total.generate_s, 3),
        "output_tokens_per_s": round(fresh / total.generate_s, 2) if total.generate_s and fresh else 0.0,
    }
    run.set("tokens", task, tokens)
    for k in ("inputs", "generations", "rows", "cache_hits"):
        run.count(f"{task}.{k}", getattr(total, k))
    run.quarantined(total.reasons)
    return {"inputs": total.inputs, "rows": total.rows, "quarantined": total.quarantined, **tokens}


class SynthParams(StrictModel):
    task: list[str] = Field(default_factory=list, description="run only these tasks (repeatable)")
    no_cache: bool = Field(False, description="neither read nor write the response cache")


def _run_task(ctx: StageContext, t: Task, engine: CachedEngine, passages_unit: str | None) -> dict[str, Any]:
    cfg, run, wh = ctx.config, ctx.run, ctx.warehouse
    sampling = sampling_of(cfg)
    prefix = unit_prefix(t, engine.model_id, sampling)
    total_inputs = sum(1 for _ in t.inputs(wh, passages_unit))
    total, written = BatchStats(), set()
    n_batches = -(-total_inputs // cfg.batch_size)
    for i, rows in enumerate(ctx.progress(batches(t, wh, passages_unit, cfg.batch_size), n_batches, t.name)):
        unit = f"{prefix}{i:05d}"
        stats = ctx.submit(run_batch, wh, t, engine, rows, sampling, run.run_id, unit, name=f"synth:{unit}").result()
        written.add(unit)
        run.add_output(t.table, unit, stats.rows, quarantined=stats.quarantined, cache_hits=stats.cache_hits)
        total.add(stats)
        ctx.log.info(
            "%s batch %d: %d inputs -> %d rows, %d quarantined", t.name, i, stats.inputs, stats.rows, stats.quarantined
        )
    stale = remove_stale_units(wh, t, prefix, written)
    return {**record_totals(run, t.name, total), "stale_units_removed": stale}


def _decontaminate(ctx: StageContext, tables: list[str]) -> list[dict[str, Any]]:
    """Annotate generated records in synthetic_decontam right away (release keeps only rows checked and clean),
    with the manifest's decontam settings: a build runs the decontam stage before synth."""
    from curation.decontam import annotate_table
    from curation.decontam.config import DecontamConfig
    from curation.decontam.index import EvalIndex

    cfg = ctx.manifest.section("decontam") if ctx.manifest is not None else DecontamConfig()
    con = connect(ctx.warehouse)
    index = EvalIndex.from_warehouse(con, cfg)
    return [annotate_table(ctx.warehouse, t, index, ctx.run.run_id, con=con) for t in tables if ctx.warehouse.files(t)]


def resolved_config(ctx: StageContext) -> SynthConfig:
    """The section, with a relative model directory resolved against the manifest."""
    cfg: SynthConfig = ctx.config
    if cfg.model and not Path(cfg.model).is_absolute() and ctx.resolve(cfg.model).is_dir():
        cfg = cfg.model_copy(update={"model": str(ctx.resolve(cfg.model))})
    return cfg


def run(ctx: StageContext) -> dict[str, Any]:
    """Passages (when a task reads them), then each task in batches, each batch a unit of work. No generator
    reachable: GeneratorUnavailable, and the run is recorded as skipped."""
    cfg = ctx.config = resolved_config(ctx)
    wh, run = ctx.warehouse, ctx.run
    names = ctx.params.task or list(cfg.tasks)
    task_objs = [make_task(n, cfg) for n in names]
    engine = open_engine(cfg, wh, not ctx.params.no_cache, ctx.engine)
    try:
        run.set("models", "generator", {"model": engine.model_id, "fingerprint": engine.fingerprint()})
        run.set("extra", "cache", {"enabled": engine.enabled, "path": str(engine.cache.path) if engine.cache else None})
        passages_unit = None
        if passage_tasks() & set(names):
            with run.timed("passages"):
                p = prepare_passages(cfg, wh, engine, run.run_id)
            passages_unit = p.unit
            run.add_output("passages", p.unit, p.passages)
            run.count("passages.passages", p.passages)
            run.count("passages.docs", p.docs)
            run.quarantined({"passages": p.quarantined} if p.quarantined else {})
            run.set(
                "extra", "passage_filters", {"applied": p.filters_applied, "skipped_absent_columns": p.filters_skipped}
            )
        per_task = {}
        for t in task_objs:
            with run.timed(t.name):
                per_task[t.name] = _run_task(ctx, t, engine, passages_unit)
        run.set("extra", "prompts", {t.name: t.prompt_id for t in task_objs})
        with run.timed("decontam"):
            run.set("extra", "decontam", _decontaminate(ctx, [t.table for t in task_objs]))
        run.set("timings_s", "model_load", round(engine.load_s, 3))
    finally:
        if ctx.engine is None:
            engine.close()
    return {
        "rows": sum(s["rows"] for s in per_task.values()),
        "quarantined": run.counts.get("quarantined", 0),
        "cache_hits": sum(s["cache_hits"] for s in per_task.values()),
        "tasks": per_task,
    }


def _summary(s: dict[str, Any]) -> str:
    head = f"{s['rows']} rows, {s['quarantined']} quarantined, {s['cache_hits']} cache hits"
    return head + "".join(
        f"; {name}: {t['inputs']} inputs -> {t['rows']} rows ({t['output_tokens_per_s']} tok/s fresh)"
        for name, t in s["tasks"].items()
    )


STAGES.register(
    Stage(
        name="synth",
        order=50,
        run=run,
        config=SynthConfig,
        params=SynthParams,
        description="generate synthetic data with every configured task (vLLM or OpenAI-compatible servers)",
        reads=("documents_enriched", "benchmark_items"),
        writes=lambda: ("passages", "synthetic_decontam", *(t.table for t in TASKS.values())),
        threads=lambda cfg: 1,
        commands="curation.synth.cli:register",
        summary=_summary,
    )
)
