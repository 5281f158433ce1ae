"""Plan the declared tasks of a manifest: build them, order them by what they read (a task whose input SQL names
another task's table runs after it), check templates and checks against the columns they will see, and derive each
output table's schema (registered so the catalog, validation, decontamination and release see it).

Input columns come from DuckDB itself: the input SQL is described against the warehouse's catalog, where tables
without data (and earlier declared tasks' tables) are typed empty views, so `manifest check` needs no data."""

from __future__ import annotations

import dataclasses
import graphlib
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from curation.errors import UserError
from curation.synth.recipe.steps import StepConfig, StepTask
from curation.synth.recipe.task import DeclaredTask
from curation.synth.tasks.item_inputs import ITEM_COLUMNS
from curation.synth.tasks.passage_inputs import PASSAGE_COLUMNS
from curation.warehouse import Warehouse, connect
from curation.warehouse.schemas import _SCALARS, Column, TableSchema, file_schema, register_schema

if TYPE_CHECKING:
    from curation.synth.config import DeclaredTaskConfig, SynthConfig


class RecipeError(UserError, ValueError):
    """A declared task that cannot run as written: names the task and what to change."""


# The columns every synthetic table shares.
COMMON = (
    Column("model", "string", False, "public model id (e.g. HuggingFaceTB/SmolLM2-135M-Instruct) or local:<dir>"),
    Column("model_fingerprint", "string", False, "weights hash (sha256:...) of the generator; part of record_id"),
    Column("prompt_id", "string", False, "<task>.<prompt version>"),
    Column("prompt_version", "string", False, "the prompt template's content hash"),
    Column("sampling", "json", False),
    Column("judge", "json", False, '{"enabled": ...}: whether a model check (judge, verifier) ran'),
    Column("sample_index", "int32", False),
    Column("n_prompt_tokens", "int32", False),
    Column("n_output_tokens", "int32", False),
    Column("cached", "bool", False, "served from the response cache"),
    Column(
        "gate_passed", "bool", False, "passed the content gate (curation/synth/gate.py); the release selects only true"
    ),
    Column("gate", "json", False, "what the gate measured: version, lang, lang_score, ppl, max_ppl (or ppl_skipped)"),
    Column("run_id", "string", False),
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
    """A JSON schema property in the schema grammar: scalars, arrays of scalars, arrays of flat objects (dialogue
    turns: list<struct<role: string, text: string>>); json for anything else."""
    t = prop.get("type")
    if t == "array":
        inner = json_type(prop.get("items", {}))
        return f"list<{inner}>" if inner != "json" else "json"
    if t == "object" and prop.get("properties"):
        fields = [(name, json_type(p)) for name, p in prop["properties"].items()]
        if all(ft != "json" and not ft.startswith(("list", "struct")) for _, ft in fields):
            return "struct<" + ", ".join(f"{n}: {ft}" for n, ft in fields) + ">"
    return _JSON_TYPES.get(str(t), "json")


def specs(cfg: SynthConfig, base_dir: Path) -> dict[str, tuple[str, DeclaredTaskConfig | StepConfig, Path]]:
    """Every task to plan, as (key path, spec, directory its files resolve in): the listed presets, expanded from
    their sections (curation/synth/presets/), and the manifest's `synth.define` entries."""
    from curation.synth.presets import presets

    known = presets()
    out: dict[str, tuple[str, DeclaredTaskConfig | StepConfig, Path]] = {
        n: (f"synth.{n}", known[n].expand(cfg.section(n)), known[n].dir) for n in cfg.tasks if n in known
    }
    out.update({n: (f"synth.define.{n}", spec, base_dir) for n, spec in cfg.define.items()})
    return out


def build_tasks(cfg: SynthConfig, base_dir: Path) -> dict[str, DeclaredTask | StepTask]:
    out: dict[str, DeclaredTask | StepTask] = {}
    for name, (where, spec, directory) in specs(cfg, base_dir).items():
        try:
            if isinstance(spec, StepConfig):
                out[name] = StepTask(name, spec, directory)
            else:
                out[name] = DeclaredTask(cfg, name, spec, directory, where)
        except (UserError, ValueError, KeyError) as e:
            raise RecipeError(f"{where}: {e}") from None
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
            raise RecipeError(f"{t.where}.input.sql: the task reads its own output table {t.table}")
        unknown = set(t.spec.after) - set(tasks)
        if unknown:
            raise RecipeError(f"{t.where}.after: {sorted(unknown)} are not declared tasks")
        deps[name] = reads | set(t.spec.after)
    try:
        return list(graphlib.TopologicalSorter(deps).static_order())
    except graphlib.CycleError as e:
        cycle = " -> ".join(e.args[1])
        raise RecipeError(f"synth.define: the tasks depend on each other in a cycle: {cycle}") from None


def builtin_input_columns(t: DeclaredTask) -> dict[str, Column] | None:
    """The columns of a passages or benchmark-items input, from those tables' own schemas (files, so that presets'
    tables can be derived while the schema registry is still loading); None for an SQL input."""
    i = t.spec.input
    if i.passages:
        return {c: file_schema("passages").column(c) for c in PASSAGE_COLUMNS}
    if i.benchmark_items is not None:
        return {c: file_schema("benchmark_items").column(c) for c in ITEM_COLUMNS}
    return None


def _input_columns(con: duckdb.DuckDBPyConnection, t: DeclaredTask | StepTask) -> dict[str, Column]:
    i = t.spec.input
    if isinstance(t, StepTask):
        if not i.sql:
            return {}
    elif (builtin := builtin_input_columns(t)) is not None:
        return builtin
    try:
        rel = con.sql(f"SELECT * FROM ({i.sql}) AS input LIMIT 0")
    except duckdb.Error as e:
        raise RecipeError(f"{t.where}.input.sql: {str(e).splitlines()[0]}") from None
    cols = {n: Column(n, duck_type(ty)) for n, ty in zip(rel.columns, rel.types, strict=True)}
    if i.id not in cols:
        raise RecipeError(f"{t.where}.input.id: {i.id!r} is not a column of the query; columns: {sorted(cols)}")
    return cols


def _check_task(t: DeclaredTask, columns: dict[str, Column]) -> None:
    where = t.where
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
    clash = {n for c in t.checks for n in c.columns()} & {*fields, *t.spec.output.carry}
    if clash:
        raise RecipeError(f"{where}.checks: {sorted(clash)} are derived by a check and also output or carried")
    choice = t.spec.output.choice
    if choice is not None:
        if choice.field not in (t.json_schema or {}).get("properties", {}):
            raise RecipeError(f"{where}.output.choice.field: {choice.field!r} is not a top-level field of the schema")
        absent = [c for c in (choice.options, choice.gold, choice.question) if c not in columns]
        if absent:
            raise RecipeError(f"{where}.output.choice: {absent} are not input columns; available: {sorted(columns)}")
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


def table_schemas(t: DeclaredTask, columns: dict[str, Column]) -> tuple[TableSchema, TableSchema]:
    """The output table (record per accepted row) and its `_items` table (per input), under `output.rename`'s
    names. A field the JSON schema requires is non-nullable; a carried column keeps its input nullability."""
    common = {c.name: c for c in COMMON}
    props = (t.json_schema or {}).get("properties", {})
    required = set((t.json_schema or {}).get("required", []))
    if t.spec.output.explode:
        item = props[t.spec.output.explode]["items"]
        props, required = item.get("properties", {}), set(item.get("required", []))
    out_types = {f: json_type(props.get(f, {"type": "string"})) for f in t.output_fields()}
    carry = [Column(c, columns[c].type, columns[c].nullable, columns[c].description) for c in t.spec.output.carry]
    # nullable: a derived value may be absent (a record column the schema lets be null)
    measured = [Column(n, ty, True, "derived by a check") for c in t.checks for n, ty in c.columns().items()]
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
            *[Column(f, ty, f not in required, "model output") for f, ty in out_types.items()],
            *([Column("element_index", "int32", False)] if t.spec.output.explode else []),
            *measured,
            *per_input,
            *COMMON,
        ),
        description=t.spec.description or f"rows of the declared task {t.name}",
        path=t.table,
    )
    if absent := sorted(set(t.spec.output.drop) - set(rows.names)):
        raise RecipeError(f"{t.where}.output.drop: {absent} are not columns of {t.table}")
    rows = dataclasses.replace(rows, columns=tuple(c for c in rows.columns if c.name not in t.spec.output.drop))
    rows = renamed(rows, t.spec.output.rename, f"{t.where}.output")
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
    return rows, renamed(items, t.spec.output.rename)


def renamed(schema: TableSchema, names: dict[str, str], where: str | None = None) -> TableSchema:
    """The schema under `output.rename`'s column names; with `where` (the output table), a renamed column must
    exist. Names stay unique."""
    have = [c.name for c in schema.columns]
    cols = tuple(dataclasses.replace(c, name=names.get(c.name, c.name)) for c in schema.columns)
    after = [c.name for c in cols]
    if len(set(after)) != len(after):
        raise RecipeError(f"{where}.rename: two columns of {schema.name} would be named alike: {after}")
    if where is not None and (absent := sorted(set(names) - set(have))):
        raise RecipeError(f"{where}.rename: {absent} are not columns of {schema.name}; columns: {have}")
    return dataclasses.replace(schema, columns=cols, key=tuple(names.get(k, k) for k in schema.key))


def _plan_step(t: StepTask, columns: dict[str, str]) -> list[TableSchema]:
    try:
        return t.plan(columns)
    except (ValueError, KeyError) as e:
        raise RecipeError(f"{t.where}: {e}") from None


def plan(cfg: SynthConfig, base_dir: Path, wh: Warehouse | None = None) -> list[DeclaredTask | StepTask]:
    """The declared tasks and steps (and the listed presets) in run order, checked, their tables registered. Without a warehouse the input SQL is
    described against an empty catalog (manifest check)."""
    tasks = build_tasks(cfg, base_dir)
    names = order(tasks)
    tables = [t.table for t in tasks.values()]
    if dup := sorted({x for x in tables if tables.count(x) > 1}):
        raise RecipeError(f"synth: two tasks write the same table {dup}; give one of them another `table`")
    with tempfile.TemporaryDirectory() as tmp:
        target = wh or Warehouse(Path(tmp) / "empty")
        for name in names:
            t = tasks[name]
            columns = _input_columns(connect(target), t)
            if isinstance(t, StepTask):
                schemas = _plan_step(t, {n: c.type for n, c in columns.items()})
            else:
                _check_task(t, columns)
                schemas = list(table_schemas(t, columns))
            for schema in schemas:
                try:
                    register_schema(schema)
                except ValueError as e:
                    raise RecipeError(f"{t.where}.table: {e}") from None
    return [tasks[n] for n in names]
