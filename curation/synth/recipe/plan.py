"""Plan the declared tasks of a manifest: build them, order them by what they read (a task whose input SQL names
another task's table runs after it), check templates and checks against the columns they will see, and derive each
output table's schema (registered so the catalog, validation, decontamination and release see it).

Input columns come from DuckDB itself: the input SQL is described against the warehouse's catalog, where tables
without data (and earlier declared tasks' tables) are typed empty views, so `manifest check` needs no data."""

from __future__ import annotations

import graphlib
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from curation.errors import UserError
from curation.synth.recipe.steps import StepConfig, StepTask
from curation.synth.recipe.task import DeclaredTask
from curation.synth.tasks.item_inputs import ITEM_COLUMNS
from curation.warehouse import Warehouse, connect
from curation.warehouse.schemas import _SCALARS, Column, TableSchema, load_schema, register_schema

if TYPE_CHECKING:
    from curation.synth.config import SynthConfig


class RecipeError(UserError, ValueError):
    """A declared task that cannot run as written: names the task and what to change."""


# The columns every synthetic table shares, typed as in medcurate's own synthetic tables.
COMMON = (
    "model",
    "model_fingerprint",
    "prompt_id",
    "prompt_version",
    "sampling",
    "judge",
    "sample_index",
    "n_prompt_tokens",
    "n_output_tokens",
    "cached",
    "gate_passed",
    "gate",
    "run_id",
)
_JSON_TYPES = {"string": "string", "integer": "int64", "number": "float64", "boolean": "bool"}
_DUCK_TYPES = {sql: name for name, (_, sql) in _SCALARS.items() if name != "json"}  # DuckDB name -> ours


def duck_type(t: Any) -> str:
    """A DuckDB column type in the schema grammar (curation/warehouse/schemas.py); json for anything else."""
    if str(t) in _DUCK_TYPES:
        return _DUCK_TYPES[str(t)]
    if t.id == "list":
        inner = duck_type(t.child)
        return f"list<{inner}>" if inner != "json" else "json"
    if t.id == "struct":
        fields = [(name, duck_type(child)) for name, child in t.children]
        if all(ft != "json" for _, ft in fields):
            return "struct<" + ", ".join(f"{n}: {ft}" for n, ft in fields) + ">"
    return "json"


def json_type(prop: dict[str, Any]) -> str:
    """A JSON-schema property's column type: scalars and arrays of scalars are typed (SQL can use them), the rest json."""
    t = prop.get("type")
    if t == "array" and (inner := _JSON_TYPES.get(str(prop.get("items", {}).get("type")))):
        return f"list<{inner}>"
    return _JSON_TYPES.get(str(t), "json")


@dataclass
class Planned:
    task: DeclaredTask
    columns: dict[str, str]  # input column -> schema type


def build_tasks(cfg: SynthConfig, base_dir: Path) -> dict[str, DeclaredTask | StepTask]:
    out: dict[str, DeclaredTask | StepTask] = {}
    for name, spec in cfg.define.items():
        try:
            if isinstance(spec, StepConfig):
                out[name] = StepTask(name, spec, base_dir)
            else:
                out[name] = DeclaredTask(cfg, name, spec, base_dir)
        except (UserError, ValueError, KeyError) as e:
            raise RecipeError(f"synth.define.{name}: {e}") from None
    return out


def order(tasks: dict[str, DeclaredTask | StepTask]) -> list[str]:
    """Dependency order: `after`, and every task whose table (or `_items` table) another's input SQL names."""
    deps: dict[str, set[str]] = {}
    for name, t in tasks.items():
        sql = t.spec.input.sql or ""
        reads = {
            other
            for other, o in tasks.items()
            if other != name and re.search(rf"\b({o.table}|{o.items_table})(_checked)?\b", sql)
        }
        if re.search(rf"\b({t.table}|{t.items_table})(_checked)?\b", sql):
            raise RecipeError(f"synth.define.{name}.input.sql: the task reads its own output table {t.table}")
        unknown = set(t.spec.after) - set(tasks)
        if unknown:
            raise RecipeError(f"synth.define.{name}.after: {sorted(unknown)} are not declared tasks")
        deps[name] = reads | set(t.spec.after)
    try:
        return list(graphlib.TopologicalSorter(deps).static_order())
    except graphlib.CycleError as e:
        cycle = " -> ".join(e.args[1])
        raise RecipeError(f"synth.define: the tasks depend on each other in a cycle: {cycle}") from None


def _input_columns(con: duckdb.DuckDBPyConnection, t: DeclaredTask | StepTask) -> dict[str, str]:
    if isinstance(t, StepTask):
        if not t.spec.input.sql:
            return {}
    elif t.spec.input.passages:
        s = load_schema("passages")
        return {"passage_id": s.column("passage_id").type, "doc_id": "string", "text": "string"}
    elif t.spec.input.benchmark_items is not None:
        s = load_schema("benchmark_items")
        return {c: s.column(c).type for c in ITEM_COLUMNS}
    i = t.spec.input
    try:
        rel = con.sql(f"SELECT * FROM ({i.sql}) AS input LIMIT 0")
    except duckdb.Error as e:
        raise RecipeError(f"synth.define.{t.name}.input.sql: {str(e).splitlines()[0]}") from None
    cols = {n: duck_type(ty) for n, ty in zip(rel.columns, rel.types, strict=True)}
    if i.id not in cols:
        raise RecipeError(
            f"synth.define.{t.name}.input.id: {i.id!r} is not a column of the query; columns: {sorted(cols)}"
        )
    return cols


def _check_task(t: DeclaredTask, columns: dict[str, str]) -> None:
    where = f"synth.define.{t.name}"
    inputs = [*columns, "input_id"]
    t.template.check_columns(inputs, set(t.spec.vars))
    fields = t.output_fields()
    if not fields:
        raise RecipeError(f"{where}.output: the output has no fields (a schema with properties, or an extractor)")
    explode = t.spec.output.explode
    if explode:
        prop = (t.json_schema or {}).get("properties", {}).get(explode, {})
        if prop.get("type") != "array" or prop.get("items", {}).get("type") != "object":
            raise RecipeError(f"{where}.output.explode: {explode!r} must be an array of objects in the schema")
    missing = [c for c in t.spec.output.carry if c not in columns]
    if missing:
        raise RecipeError(f"{where}.output.carry: {missing} are not input columns; available: {sorted(columns)}")
    clash = set(t.spec.output.carry) & set(fields)
    if clash:
        raise RecipeError(f"{where}.output.carry: {sorted(clash)} are output fields too; carry other columns")
    clash = set(t.added_columns()) & {*fields, *t.spec.output.carry}
    if clash:
        raise RecipeError(f"{where}.checks: {sorted(clash)} are derived by a check and also output or carried")
    for k, c in enumerate(t.checks):
        need_out, need_in = c.needs()
        if need_out - set(fields) or need_in - set(inputs):
            raise RecipeError(
                f"{where}.checks.{k} ({c.name}): reads output fields {sorted(need_out - set(fields))} / input columns "
                f"{sorted(need_in - set(inputs))} that do not exist; output fields {fields}, input columns "
                f"{sorted(columns)}"
            )
        if c.name == "judge":
            c.template().check_columns([*inputs, *fields], set())  # type: ignore[attr-defined]


def table_schemas(t: DeclaredTask, columns: dict[str, str]) -> tuple[TableSchema, TableSchema]:
    """The output table (record per accepted row) and its `_items` table (per input)."""
    common = {c.name: c for c in load_schema("synthetic_mcq_cot").columns if c.name in COMMON}
    props = (t.json_schema or {}).get("properties", {})
    if t.spec.output.explode:
        props = props[t.spec.output.explode]["items"].get("properties", {})
    out_types = {f: json_type(props.get(f, {"type": "string"})) for f in t.output_fields()}
    carry = [Column(c, columns[c]) for c in t.spec.output.carry]
    head = [
        Column("record_id", "string", False, "hash(task, input, prompt version, model + weights, sampling, indices)"),
        Column("input_id", "string", False, f"the input row ({t.spec.input.id or 'passage_id / item_id'})"),
    ]
    per_input = [
        Column("n_samples", "int32", False, "samples generated for the input"),
        Column("n_passes", "int32", False, "samples with at least one accepted row"),
        Column("pass_rate", "float64", False, "n_passes / n_samples"),
    ]
    rows = TableSchema(
        name=t.table,
        key=("record_id",),
        columns=(
            *head,
            *carry,
            *[Column(f, ty, True, "model output") for f, ty in out_types.items()],
            *[Column(f, ty, True, "derived by a check") for f, ty in t.added_columns().items()],
            *([Column("element_index", "int32", False)] if t.spec.output.explode else []),
            *per_input,
            *[common[c] for c in COMMON],
        ),
        description=t.spec.description or f"rows of the declared task {t.name}",
        path=t.table,
    )
    items = TableSchema(
        name=t.items_table,
        key=("record_id",),
        columns=(
            *head,
            *carry,
            *per_input,
            Column("kept", "bool", False, "whether the input's rows passed the keep rule"),
            *[common[c] for c in ("model", "model_fingerprint", "prompt_version", "run_id")],
        ),
        description=f"passes per input of the declared task {t.name}",
        path=t.items_table,
    )
    return rows, items


def _plan_step(t: StepTask, columns: dict[str, str]) -> list[TableSchema]:
    try:
        return t.plan(columns)
    except (ValueError, KeyError) as e:
        raise RecipeError(f"synth.define.{t.name}: {e}") from None


def plan(cfg: SynthConfig, base_dir: Path, wh: Warehouse | None = None) -> list[DeclaredTask | StepTask]:
    """The declared tasks in run order, checked, their tables registered. Without a warehouse the input SQL is
    described against an empty catalog (manifest check)."""
    tasks = build_tasks(cfg, base_dir)
    names = order(tasks)
    with tempfile.TemporaryDirectory() as tmp:
        target = wh or Warehouse(Path(tmp) / "empty")
        for name in names:
            t = tasks[name]
            columns = _input_columns(connect(target), t)
            if isinstance(t, StepTask):
                schemas = _plan_step(t, columns)
            else:
                _check_task(t, columns)
                schemas = list(table_schemas(t, columns))
            for schema in schemas:
                try:
                    register_schema(schema)
                except ValueError as e:
                    raise RecipeError(f"synth.define.{name}.table: {e}") from None
    return [tasks[n] for n in names]
