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
from curation.errors import UserError
from curation.stages import STAGES, Stage, StageContext
from curation.synth.cache import CachedEngine, ResponseCache, cache_path
from curation.synth.config import SynthConfig
from curation.synth.engine import Engine, Sampling
from curation.synth.passages import PassageResult, build_passages, make_counter
from curation.synth.presets import presets
from curation.synth.recipe.checks import describe
from curation.synth.recipe.plan import plan
from curation.synth.recipe.pool import EnginePool, configured_engine
from curation.synth.recipe.steps import StepTask
from curation.synth.recipe.task import DeclaredTask
from curation.synth.runner import BatchStats, run_batch
from curation.synth.tasks import TASKS, make_task
from curation.synth.tasks.base import Task
from curation.warehouse import RunRecorder, Warehouse, connect
from curation.warehouse.schemas import declared_tables, load_schema, save_declared


def open_engine(cfg: SynthConfig, wh: Warehouse, use_cache: bool = True, inner: Engine | None = None) -> CachedEngine:
    """The configured engine (or `inner`) behind the response cache; raises GeneratorUnavailable when nothing is
    reachable."""
    cache = ResponseCache(cache_path(wh)) if use_cache and cfg.cache else None
    return CachedEngine(inner or configured_engine(cfg, cfg.sampling.seed), cache, enabled=cache is not None)


def sampling_of(cfg: SynthConfig) -> Sampling:
    s = cfg.sampling
    return Sampling(s.temperature, s.top_p, s.max_tokens, s.seed, s.frequency_penalty)


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
    sampling = t.sampling(sampling_of(cfg))
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


def selected_tasks(ctx: StageContext, cfg: SynthConfig) -> list[Task | StepTask]:
    """Built-in (preset) and plugin tasks in the order listed, then declared tasks and steps in dependency order.
    Presets and declared tasks are planned alike; a declared task's tables are registered and saved in the
    warehouse, so SQL, validation and release see them (a preset's are always known)."""
    names = ctx.params.task or list(cfg.tasks)
    unknown = [n for n in names if n not in cfg.define and n not in cfg.section_models()]
    if unknown:
        raise UserError(f"--task {unknown}: not a task of this manifest; tasks: {list(cfg.tasks)}")
    if cfg.define and ctx.manifest is None:
        raise UserError("declared tasks (synth.define) need their manifest: prompt templates resolve beside it")
    listed = cfg.model_copy(update={"tasks": list(dict.fromkeys([*cfg.tasks, *names]))})
    base_dir = ctx.manifest.base_dir if ctx.manifest is not None else Path.cwd()
    planned = {t.name: t for t in plan(listed, base_dir, ctx.warehouse)}
    for name in cfg.define:
        t = planned[name]
        for table in t.declared if isinstance(t, StepTask) else (t.table, t.items_table):
            save_declared(ctx.warehouse.root, load_schema(table))
    builtin: list[Task | StepTask] = [
        make_task(n, cfg) if n in TASKS else planned[n] for n in names if n not in cfg.define
    ]
    return builtin + [t for n, t in planned.items() if n in cfg.define and n in names]


def _model_of(t: Task) -> str | None:
    return t.spec.model if isinstance(t, DeclaredTask) else None


def _bind(t: Task, pool: EnginePool, engine: CachedEngine) -> None:
    """A declared task's model checks use the pool; prompts that must fit the context count with the model."""
    if isinstance(t, DeclaredTask):
        t.bind(pool)
        t.counter = getattr(engine.inner, "count_tokens", None)
        t.context_len = getattr(engine.inner, "max_model_len", None)


def run(ctx: StageContext) -> dict[str, Any]:
    """Passages (when a task reads them), then each task in batches, each batch a unit of work, each task on its
    model's engine (opened on first use, closed after its last task). No generator reachable: GeneratorUnavailable,
    and the run is recorded as skipped."""
    cfg = ctx.config = resolved_config(ctx)
    wh, run = ctx.warehouse, ctx.run
    task_objs = selected_tasks(ctx, cfg)
    models = ctx.manifest.models if ctx.manifest is not None else {}
    pool = EnginePool(cfg, models, wh, not ctx.params.no_cache, ctx.engine)
    last_use = {pool.serving_key(_model_of(t)): i for i, t in enumerate(task_objs) if not isinstance(t, StepTask)}
    try:
        run.set(
            "extra", "cache", {"enabled": pool.cache is not None, "path": str(pool.cache.path) if pool.cache else None}
        )
        passages_unit = None
        if any(getattr(t, "uses_passages", False) for t in task_objs):
            with run.timed("passages"):
                p = prepare_passages(cfg, wh, pool.get(None), run.run_id)
            passages_unit = p.unit
            run.add_output("passages", p.unit, p.passages)
            run.count("passages.passages", p.passages)
            run.count("passages.docs", p.docs)
            run.quarantined({"passages": p.quarantined} if p.quarantined else {})
            run.set(
                "extra", "passage_filters", {"applied": p.filters_applied, "skipped_absent_columns": p.filters_skipped}
            )
        per_task = {}
        for i, t in enumerate(task_objs):
            if isinstance(t, StepTask):  # deterministic: no engine of its own (a model it names comes from the pool)
                with run.timed(t.name):
                    per_task[t.name] = t.run(ctx, pool)
                continue
            engine = pool.get(_model_of(t))
            _bind(t, pool, engine)
            model = {"model": engine.model_id, "fingerprint": engine.fingerprint()}
            run.set("models", t.name, model)
            if _model_of(t) is None:  # the synth default model, under the key run records always had
                run.set("models", "generator", model)
            with run.timed(t.name):
                per_task[t.name] = _run_task(ctx, t, engine, passages_unit)
            if isinstance(t, DeclaredTask):
                run.set("extra", f"checks.{t.name}", describe(t.checks))
            if last_use[pool.serving_key(_model_of(t))] == i:
                pool.release(_model_of(t))
        run.set("extra", "prompts", {t.name: t.prompt_id for t in task_objs})
        with run.timed("decontam"):
            tables = [t.table for t in task_objs if not isinstance(t, StepTask)]
            run.set("extra", "decontam", _decontaminate(ctx, tables))
        run.set("timings_s", "model_load", round(pool.load_s, 3))
    finally:
        pool.close()
    return {
        "rows": sum(s["rows"] for s in per_task.values()),
        "quarantined": run.counts.get("quarantined", 0),
        "cache_hits": sum(s["cache_hits"] for s in per_task.values()),
        "tasks": per_task,
    }


def check_manifest(manifest: Any) -> None:
    """`manifest check`: the listed presets and declared tasks: templates, schemas and checks against the columns
    they will read."""
    plan(manifest.section("synth"), manifest.base_dir)


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
        writes=lambda: (
            "passages",
            "synthetic_decontam",
            *(t.table for t in TASKS.values()),
            *(p.table for p in presets().values()),
            *(t for t in declared_tables() if t.startswith("synthetic_")),  # not records_* or propagated_*
        ),
        threads=lambda cfg: 1,
        commands="curation.synth.cli:register",
        summary=_summary,
        check_manifest=check_manifest,
    )
)
