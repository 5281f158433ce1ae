"""The synth stage without Prefect: open the engine, build passages, plan batches, name units, sum up the run.
flows/synth.py drives these with one Prefect task per batch."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from itertools import islice

from curation.synth.cache import CachedEngine, ResponseCache, cache_path
from curation.synth.config import SynthConfig
from curation.synth.engine import Engine, Sampling
from curation.synth.passages import PassageResult, build_passages, make_counter
from curation.synth.runner import BatchStats
from curation.synth.tasks.base import Task
from curation.warehouse import RunRecorder, Warehouse


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
