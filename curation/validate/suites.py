"""Expectation suites: schemas/expectations/<table>.yaml, one per table.

A suite file holds Great Expectations expectation configurations (`type` + `kwargs`, GE 1.x names) for value sets,
ranges and patterns. The structural part (column set, types, non-null columns, key uniqueness) is derived from the
table's schema in schemas/tables, the single source of truth. A suite for a table whose schema is not in
schemas/tables (yet) declares stand-in `columns` (name, nullable, optional type) and `key`: the data must have those
columns (it may have more), and types are checked only where given. Once the schema exists it wins.

    table: annotations_decontam
    key: [doc_id]                          # optional when schemas/tables/<table>.yaml exists
    columns:                               # only when there is no schemas/tables/<table>.yaml
      - {name: doc_id, type: string, nullable: false}
    expectations:
      - {type: expect_column_values_to_be_in_set, kwargs: {column: contam_rule, value_set: [pmid, ngram, fuzzy]}}
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from curation.errors import UserError
from curation.resources import plugin_schema_dirs, schemas_dir
from curation.warehouse.schemas import Column, _parse, all_schemas

_SUITE_KEYS = {"table", "description", "key", "columns", "expectations"}
# Expectations that need the whole table at once: computed with DuckDB over the table, never per batch.
TABLE_LEVEL = {
    "expect_column_values_to_be_unique",
    "expect_compound_columns_to_be_unique",
    "expect_table_row_count_to_be_between",
}


@dataclass(frozen=True)
class Suite:
    table: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    expectations: tuple[dict[str, Any], ...]
    description: str = ""
    path: str = ""
    exact_columns: bool = True  # False for stand-in columns: the data must have them, and may have more

    def structural(self) -> list[dict[str, Any]]:
        """Column set, non-null columns and key uniqueness, from the columns and key."""
        out: list[dict[str, Any]] = [
            {
                "type": "expect_table_columns_to_match_set",
                "kwargs": {"column_set": [c.name for c in self.columns], "exact_match": self.exact_columns},
            },
        ]
        out += [
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": c.name}}
            for c in self.columns
            if not c.nullable
        ]
        if len(self.key) == 1:
            out.append({"type": "expect_column_values_to_be_unique", "kwargs": {"column": self.key[0]}})
        elif self.key:
            out.append({"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": list(self.key)}})
        return out

    def all_expectations(self) -> list[dict[str, Any]]:
        return self.structural() + [dict(e) for e in self.expectations]

    def batch_expectations(self) -> list[dict[str, Any]]:
        return [e for e in self.all_expectations() if e["type"] not in TABLE_LEVEL]

    def table_expectations(self) -> list[dict[str, Any]]:
        return [e for e in self.all_expectations() if e["type"] in TABLE_LEVEL]


def expectations_dir() -> Path:
    return schemas_dir() / "expectations"


def _registry_names(kind: str) -> list[str]:
    from curation.components import registries

    regs = registries()
    if kind not in regs:
        raise ValueError(f"unknown registry @{kind}; known: {sorted(regs)}")
    return regs[kind].names()


def resolve_registry_refs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """`value_set: "@benchmarks"` is the registered names of that kind; `{@formats}` inside a regex is their
    alternation. Suites so follow the registries: a new format or benchmark needs no suite edit."""
    out = dict(kwargs)
    vs = out.get("value_set")
    if isinstance(vs, str) and vs.startswith("@"):
        out["value_set"] = _registry_names(vs[1:])
    rx = out.get("regex")
    if isinstance(rx, str):
        out["regex"] = re.sub(r"\{@(\w+)\}", lambda m: "|".join(map(re.escape, _registry_names(m.group(1)))), rx)
    return out


def _load(path: Path) -> Suite:
    spec = yaml.safe_load(path.read_text()) or {}
    unknown = set(spec) - _SUITE_KEYS
    if unknown:
        raise ValueError(f"{path}: unknown keys {sorted(unknown)}")
    table = spec["table"]
    schema = all_schemas().get(table)
    if schema is not None:  # the table's schema wins over a suite's stand-in `columns`
        columns, key, exact = schema.columns, tuple(spec.get("key") or schema.key), True
    else:
        if not spec.get("columns"):
            raise ValueError(f"{path}: no schemas/tables/{table}.yaml, so the suite must declare `columns`")
        columns = tuple(Column(c["name"], c.get("type", ""), bool(c.get("nullable", True))) for c in spec["columns"])
        for c in columns:
            if c.type:
                _parse(c.type)
        key, exact = tuple(spec.get("key") or ()), False
    exps = []
    for i, e in enumerate(spec.get("expectations") or []):
        if set(e) - {"type", "kwargs", "meta"} or "type" not in e:
            raise ValueError(f"{path}: expectations.{i} needs `type` and `kwargs` (and optional `meta`)")
        kwargs = resolve_registry_refs(dict(e.get("kwargs") or {}))
        exps.append({"type": e["type"], "kwargs": kwargs, "meta": dict(e.get("meta") or {})})
    return Suite(table, key, columns, tuple(exps), spec.get("description", ""), str(path), exact)


@functools.cache
def all_suites(directory: Path | None = None) -> dict[str, Suite]:
    """Every suite: medcurate's own (or `directory`'s) and those installed plugins ship beside their schemas."""
    dirs = [directory] if directory else [expectations_dir(), *(d / "expectations" for d in plugin_schema_dirs())]
    paths = sorted(p for d in dirs for p in [*d.glob("*.yaml"), *d.glob("*.yml"), *d.glob("*.json")])
    suites: dict[str, Suite] = {}
    for p in paths:
        s = _load(p)
        if s.table in suites:
            raise ValueError(f"two suites for table {s.table!r}: {suites[s.table].path} and {p}")
        suites[s.table] = s
    return suites


def schema_suite(table: str) -> Suite | None:
    """The structural suite (columns, not-null, key) of a table that has a schema but no suite file: a table a
    manifest declared (a recipe task's output)."""
    schema = all_schemas().get(table)
    if schema is None:
        return None
    return Suite(table, schema.key, schema.columns, (), schema.description, "(from the table schema)", True)


def load_suite(table: str) -> Suite:
    suites = all_suites()
    if table not in suites and (derived := schema_suite(table)) is not None:
        return derived
    if table not in suites:
        raise UserError(f"no expectation suite for table {table!r} in {expectations_dir()}; known: {sorted(suites)}")
    return suites[table]
