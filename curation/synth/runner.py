"""Run one batch of a task: prompts -> engine -> parse/schema checks -> task row checks -> content gate -> judge ->
one output unit plus its quarantine unit. Batches are the unit of work (a Prefect task each) and of resume."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from curation.synth.engine import Engine, EngineWrapper, GenResult, Prompt, Sampling
from curation.synth.gate import Candidate, GateInput, apply_gate
from curation.synth.tasks.base import Context, Rejection, Sample, Task
from curation.warehouse import Quarantine, ShardWriter, Warehouse

STAGE = "synth"


@dataclass
class BatchStats:
    unit: str = ""
    inputs: int = 0
    generations: int = 0
    rows: int = 0
    quarantined: int = 0
    reasons: Counter = field(default_factory=Counter)
    prompt_tokens: int = 0
    output_tokens: int = 0
    cache_hits: int = 0
    cached_output_tokens: int = 0
    generate_s: float = 0.0

    def add(self, other: BatchStats) -> None:
        for k in ("inputs", "generations", "rows", "quarantined", "prompt_tokens", "output_tokens", "cache_hits"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        self.cached_output_tokens += other.cached_output_tokens
        self.generate_s += other.generate_s
        self.reasons.update(other.reasons)


class MeteredEngine(EngineWrapper):
    """Counts tokens, generations, cache hits and generation time of every call (task and judge alike)."""

    def __init__(self, inner: Engine, stats: BatchStats):
        super().__init__(inner)
        self.stats = stats
        self._lock = threading.Lock()

    def generate(
        self, prompts: Sequence[Prompt], sampling: Sampling | Sequence[Sampling], json_schema: dict | None = None
    ) -> list[GenResult]:
        t, load0 = time.perf_counter(), self.load_s
        results = self.inner.generate(prompts, sampling, json_schema)
        with self._lock:
            s = self.stats
            s.generate_s += time.perf_counter() - t - (self.load_s - load0)
            s.generations += len(results)
            for r in results:
                s.prompt_tokens += r.n_prompt_tokens
                s.output_tokens += r.n_output_tokens
                if r.cached:
                    s.cache_hits += 1
                    s.cached_output_tokens += r.n_output_tokens
        return results


def check_generation(task: Task, r: GenResult, schema: dict | None, ref: str, index: int) -> Rejection | Sample:
    """The failures every task shares: engine error, truncation, an all-whitespace output; then the task's parse
    (unparseable output, schema violation, nothing extracted)."""
    if not r.ok:
        return Rejection(r.error or "generation_failed", ref, r.text, r.detail)
    if not r.text.strip():
        return Rejection("empty_output", ref, r.text, f"{len(r.text)} whitespace characters")
    if r.finish_reason == "length":
        return Rejection("truncated_output", ref, r.text, f"hit max_tokens after {r.n_output_tokens} tokens")
    parsed = task.parse(r, schema)
    if isinstance(parsed, tuple):
        return Rejection(parsed[0], ref, r.text, parsed[1])
    return Sample(index, r, parsed)


def candidate(task: Task, row: dict, result: GenResult, inp: dict) -> Candidate:
    """A row for the content gate, with the raw output it was parsed from."""
    c = task.choice(row, inp)
    text = GateInput(task.generated_fields(row), c.options if c else None, c.chosen if c else None, task.example_text())
    return Candidate(row, result.text, task.source_ref(row), text, c.gold if c else None, c.question if c else "")


def check_outputs(
    task: Task, engine: Engine | None, rows: list[dict], results: Sequence[GenResult], ctx: Context
) -> tuple[list[dict], list[Rejection]]:
    """Everything after generation, for rows that passed precheck and their `task.n_samples` results each (in
    order): the shared checks, the task's row checks, the content gate, the judge. `engine` serves the gate's
    verifier, its default perplexity reference and the judge; replaying recorded outputs may pass None."""
    rejects: list[Rejection] = []
    candidates: list[Candidate] = []
    for i, row in enumerate(rows):
        schema = task.schema_for(row)
        samples: list[Sample] = []
        for k in range(task.n_samples):
            checked = check_generation(task, results[i * task.n_samples + k], schema, f"{row['input_id']}/s{k}", k)
            if isinstance(checked, Rejection):
                rejects.append(checked)
            else:
                samples.append(checked)
        if samples:
            ok, bad = task.evaluate(row, samples, ctx)
            candidates.extend(
                candidate(task, out, results[i * task.n_samples + out["sample_index"]], row) for out in ok
            )
            rejects.extend(bad)
    accepted, gated_out = apply_gate(task.gate, engine, candidates)
    rejects.extend(gated_out)
    if engine is None:  # replaying recorded outputs: no judge
        return accepted, rejects
    accepted, judged_out = task.judge(engine, accepted, {r["input_id"]: r for r in rows})
    rejects.extend(judged_out)
    return accepted, rejects


def run_batch(
    wh: Warehouse, task: Task, engine: Engine, rows: list[dict], sampling: Sampling, run_id: str, unit: str
) -> BatchStats:
    """Generate, check and publish one batch. The output unit and its quarantine unit are named by the batch, so a
    redone batch replaces both (no duplicate record_ids, no duplicate quarantine rows)."""
    stats = BatchStats(unit=unit, inputs=len(rows))
    metered = MeteredEngine(engine, stats)
    ctx = Context(model=engine.model_id, sampling=sampling.as_dict(), run_id=run_id, fingerprint=engine.fingerprint())
    rejects: list[Rejection] = []
    todo: list[dict] = []
    groups: dict[str, tuple[dict, list[int]]] = {}  # one generate() call per distinct schema
    prompts: list[Prompt] = []
    samplings: list[Sampling] = []
    for row in rows:
        pre = task.precheck(row)
        if pre:
            rejects.append(pre)
            continue
        todo.append(row)
        schema = task.schema_for(row)
        msgs = task.prompt(row)
        for k in range(task.n_samples):
            groups.setdefault(json.dumps(schema, sort_keys=True), (schema, []))[1].append(len(prompts))
            prompts.append(msgs)
            samplings.append(sampling.with_seed(sampling.seed + k))
    results: list[GenResult | None] = [None] * len(prompts)
    for schema, idx in groups.values():
        for i, r in zip(
            idx, metered.generate([prompts[i] for i in idx], [samplings[i] for i in idx], schema), strict=True
        ):
            results[i] = r
    missing = [i for i, r in enumerate(results) if r is None]
    if missing:  # every prompt is in exactly one schema group
        raise AssertionError(f"no result for prompts {missing[:5]}")
    accepted, checked_out = check_outputs(task, metered, todo, [r for r in results if r is not None], ctx)
    rejects.extend(checked_out)
    accepted, aggregated_out, side = task.aggregate(todo, accepted, ctx)
    rejects.extend(aggregated_out)
    write_unit(wh, task, unit, run_id, accepted, rejects, side)
    stats.rows = len(accepted)
    stats.quarantined = len(rejects)
    stats.reasons.update(r.reason for r in rejects)
    return stats


def write_unit(
    wh: Warehouse,
    task: Task,
    unit: str,
    run_id: str,
    rows: list[dict],
    rejects: list[Rejection],
    side: dict[str, list[dict]] | None = None,
) -> None:
    """The batch's rows, its side tables' rows (same unit name) and its quarantine unit."""
    for table, side_rows in (side or {}).items():
        with ShardWriter(wh, table, unit) as sw:
            sw.write_many(side_rows)
    with ShardWriter(wh, task.table, unit) as w, Quarantine(wh, STAGE, run_id, unit=f"{STAGE}-{task.name}-{unit}") as q:
        w.write_many(rows)
        for r in rejects:
            q.add(r.reason, r.source_ref, r.payload, r.detail)
