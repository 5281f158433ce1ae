"""Deterministic (non-LLM) steps in a recipe chain: a `synth.define.<name>` entry with `step: <kind>` runs a
registered step instead of a prompt, ordered in the same dependency graph as the declared LLM tasks (by the tables
their SQL reads, and `after:`).

    define:
      links:
        step: kg_link
        input: {sql: "SELECT input_id, question_entities FROM synthetic_entities", id: input_id}
        options: {columns: [question_entities], kinds: [Disease]}
        model: chooser            # steps that ask a model name one from `models:`

The generic life of a step (`StepTask.run`): read the input rows, split them into parts (one by default; kg_merge:
one per publication day), and write each part as one unit named by a hash of the step, its options, its model,
the state it depends on (e.g. the KG version) and the part's rows. A unit that already exists is skipped, so a
rerun with unchanged input recomputes nothing; units of this step that the run did not produce are removed with
their quarantine. Rows a step cannot use go to quarantine (stage synth, unit `synth-<unit>`) with a reason.

Step kinds register in STEPS from `curation/<package>/steps.py` (the KG steps: curation/kg/steps.py), or from a
plugin through the entry-point group `medcurate.steps`.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, Field, model_validator

from curation.config_base import StrictModel
from curation.registry import Registry
from curation.warehouse import Warehouse, connect
from curation.warehouse.quarantine import Quarantine, Rejection
from curation.warehouse.schemas import TableSchema, load_schema
from curation.warehouse.shards import ShardWriter

if TYPE_CHECKING:
    from curation.stages import StageContext
    from curation.synth.recipe.pool import EnginePool

STEPS: Registry[Any] = Registry("steps", scan=("curation.synth.recipe.steps", "curation.*.steps"))


class StepInput(StrictModel):
    """SQL over any warehouse view (earlier tasks' tables included); steps that make rather than read data (KG
    ingest, chain sampling) take none."""

    sql: str | None = None
    id: str | None = Field(None, description="column identifying an input row")
    limit: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _id(self) -> StepInput:
        if self.sql and not self.id:
            raise ValueError("an sql input needs `id`: the column that identifies an input row")
        return self


class StepConfig(StrictModel):
    """A deterministic step declared in the manifest (`synth.define.<name>` with `step:`)."""

    step: str = Field(description="a registered step kind (medcurate plugins lists them)")
    description: str = ""
    input: StepInput = Field(default_factory=StepInput)
    options: dict[str, Any] = Field(default_factory=dict, description="the step kind's options")
    model: str | None = Field(None, description="a `models:` name, for steps that ask a model")
    table: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]*$", description="output table; default the kind's")
    after: list[str] = Field(default_factory=list, description="tasks to run first besides those input.sql reads")

    @model_validator(mode="after")
    def _kind(self) -> StepConfig:
        kind = STEPS.get(self.step)  # raises with the known kinds
        try:
            kind.options.model_validate(self.options)
        except ValueError as e:
            raise ValueError(f"options: {e}") from None
        if kind.needs_input and not self.input.sql:
            raise ValueError(f"step {self.step} reads rows: give input.sql and input.id")
        if not kind.needs_input and self.input.sql:
            raise ValueError(f"step {self.step} takes no input")
        return self


def is_step(entry: Any) -> bool:
    """A `define` entry (raw mapping or validated) that names a step kind."""
    return isinstance(entry, StepConfig) or (isinstance(entry, dict) and "step" in entry)


def digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass
class StepRun:
    """What a step sees while it runs: the warehouse, the run, the pool (for a model) and the quarantine of the
    unit being written."""

    wh: Warehouse
    run_id: str
    task: StepTask
    pool: EnginePool | None
    quarantine: Quarantine | None = None
    counts: Counter[str] = field(default_factory=Counter)

    def reject(self, reason: str, ref: str, payload: Any, detail: str = "") -> None:
        assert self.quarantine is not None, "reject() is for rows of a unit being written"
        self.quarantine.reject(Rejection(reason, ref, payload, detail))


class Step:
    """A step kind. Subclasses set name, options (a pydantic model) and either default_table (a registered table)
    or derive their table in `schemas`; `process` turns one part's input rows into output rows."""

    name: ClassVar[str]
    options: ClassVar[type[BaseModel]]
    needs_input: ClassVar[bool] = True
    default_table: ClassVar[str]

    def __init__(self, task: StepTask):
        self.task = task
        self.o: Any = self.options.model_validate(task.spec.options)

    def needs(self) -> set[str]:
        """Input columns the step reads: checked against the input SQL at plan time."""
        return set()

    def schemas(self, table: str, columns: dict[str, str]) -> list[TableSchema]:
        """Tables this step declares (derived, registered and saved like a declared task's); none by default:
        it writes a built-in table."""
        return []

    def state(self, wh: Warehouse) -> str:
        """What the output depends on besides the input rows and options (e.g. the KG version)."""
        return ""

    def parts(self, rows: list[dict]) -> list[tuple[str, list[dict]]]:
        return [("all", rows)]

    def process(self, sr: StepRun, part: str, rows: list[dict]) -> Iterable[dict]:
        raise NotImplementedError

    def finish(self, sr: StepRun, fresh: list[str], stale: list[str]) -> None:
        """After every part: fresh = units written by this run, stale = units removed."""

    def execute(self, sr: StepRun) -> dict[str, Any]:
        """The generic life (module docstring); a step that owns its units (KG ingest) overrides it."""
        t, wh = self.task, sr.wh
        rows = list(t.input_rows(wh))
        state = self.state(wh)
        written, fresh = [], []
        for part, part_rows in self.parts(rows):
            content = [{k: v for k, v in r.items() if k != "run_id"} for r in part_rows]  # a rerun's new run_id
            unit = f"{t.name}-{part}-{digest(t.spec.step, t.spec.options, t.spec.model, state, content)}"
            written.append(unit)
            if wh.has_unit(t.table, unit):
                sr.counts["units_skipped"] += 1
                continue
            with Quarantine(wh, "synth", sr.run_id, unit=f"synth-{unit}") as q:
                sr.quarantine = q
                with ShardWriter(wh, t.table, unit) as w:
                    for r in self.process(sr, part, part_rows):
                        w.write(r)
                sr.counts["rows"] += w.stats.rows
                sr.counts.update({f"quarantined:{k}": n for k, n in q.reasons.items()})
                sr.quarantine = None
            fresh.append(unit)
        stale = [u for u in wh.units(t.table) if u.startswith(f"{t.name}-") and u not in written]
        for u in stale:
            wh.remove_unit(t.table, u)
            wh.remove_unit("quarantine", f"synth-{u}")
        self.finish(sr, fresh, stale)
        return {"inputs": len(rows), "units": len(written), "units_fresh": len(fresh), "units_stale": len(stale)}


class StepTask:
    """One declared step: the same planning surface as a DeclaredTask (name, table, spec.input.sql, spec.after) so
    the planner orders both in one graph."""

    def __init__(self, name: str, spec: StepConfig, base_dir: Path):
        self.name = name
        self.where = f"synth.define.{name}"  # the spec's key path, for errors
        self.spec = spec
        self.base_dir = base_dir
        self.step: Step = STEPS.get(spec.step)(self)
        self.table = spec.table or self.step.default_table
        self.items_table = self.table  # the planner's dependency scan names both
        self.prompt_id = f"step:{spec.step}"
        self.declared: list[str] = []  # tables this step declares (set by plan)

    def input_rows(self, wh: Warehouse) -> Iterator[dict]:
        i = self.spec.input
        if not i.sql:
            return
        lim = f" LIMIT {int(i.limit)}" if i.limit else ""
        rel = connect(wh).sql(f'SELECT * FROM ({i.sql}) AS input ORDER BY "{i.id}"{lim}')
        for batch in rel.to_arrow_reader(1000):
            for r in batch.to_pylist():
                yield {**r, "input_id": str(r[i.id])}

    def plan(self, columns: dict[str, str]) -> list[TableSchema]:
        """Check what the step reads against the input's columns; the tables it declares."""
        missing = self.step.needs() - set(columns)
        if missing:
            raise ValueError(
                f"options read input columns {sorted(missing)} that the input SQL does not give; columns: "
                f"{sorted(columns)}"
            )
        schemas = self.step.schemas(self.table, columns)
        if not schemas:
            load_schema(self.table)  # a built-in table: raises when unknown
        self.declared = [s.name for s in schemas]
        return schemas

    def run(self, ctx: StageContext, pool: EnginePool) -> dict[str, Any]:
        sr = StepRun(ctx.warehouse, ctx.run.run_id, self, pool)
        out = self.step.execute(sr)
        quarantined = {k.split(":", 1)[1]: n for k, n in sr.counts.items() if k.startswith("quarantined:")}
        for k, n in sr.counts.items():
            if not k.startswith("quarantined:"):
                ctx.run.count(f"{self.name}.{k}", n)
        ctx.run.count(f"{self.name}.inputs", out["inputs"])
        ctx.run.quarantined(quarantined)
        counts = {k: v for k, v in sr.counts.items() if not k.startswith("quarantined:")}
        return {
            "step": self.spec.step,
            **out,
            **counts,
            "rows": sr.counts["rows"],
            "quarantined": sum(quarantined.values()),
            "cache_hits": 0,
            "output_tokens_per_s": 0.0,
        }
