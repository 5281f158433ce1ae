"""Rows against a record schema: structure and types per row in Python, then every rule at once in DuckDB over
the rows that are well-typed. Each problem names its column or rule."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from curation.records.schema import RecordColumn, RecordSchema
from curation.warehouse.schemas import arrow_type

REASONS = ("missing_column", "extra_column", "null_value", "wrong_type", "out_of_range", "unknown_category")


@dataclass(frozen=True)
class Problem:
    reason: str  # one of REASONS, or rule_violation
    name: str  # the column or the rule
    detail: str


@dataclass
class Checked:
    """Well-formed rows (typed, in input order, with their input index) and the problems of every other row."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    index: list[int] = field(default_factory=list)
    problems: dict[int, list[Problem]] = field(default_factory=dict)

    def counts(self) -> Counter[str]:
        """Problems by `reason:name` (each row counted once per problem)."""
        return Counter(f"{p.reason}:{p.name}" for ps in self.problems.values() for p in ps)


def _typed(c: RecordColumn, v: Any) -> tuple[Any, Problem | None]:
    def wrong(what: str) -> tuple[Any, Problem]:
        return None, Problem("wrong_type", c.name, f"{c.name}: {v!r} is not {what}")

    if c.type == "int":
        if isinstance(v, bool) or not isinstance(v, int | float) or (isinstance(v, float) and not v.is_integer()):
            return wrong("an integer")
        v = int(v)
    elif c.type == "float":
        if isinstance(v, bool) or not isinstance(v, int | float):
            return wrong("a number")
        v = float(v)
    elif c.type == "bool":
        if not isinstance(v, bool):
            return wrong("true or false")
    elif c.type == "date":
        if isinstance(v, str):
            try:
                v = dt.date.fromisoformat(v)
            except ValueError:
                return wrong("an ISO date")
        if not isinstance(v, dt.date) or isinstance(v, dt.datetime):
            return wrong("a date")
    else:
        if isinstance(v, bool) or not isinstance(v, str | int | float):
            return wrong("text")
        v = str(v)
        if c.type == "category" and v not in (c.values or []):
            return None, Problem("unknown_category", c.name, f"{c.name}: {v!r} is not one of {c.values}")
    if (c.min is not None and v < c.min) or (c.max is not None and v > c.max):
        return None, Problem("out_of_range", c.name, f"{c.name}: {v!r} is outside [{c.min}, {c.max}]")
    return v, None


def _row(schema: RecordSchema, raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    names = {c.name for c in schema.columns}
    problems = [Problem("extra_column", k, f"no column {k!r} in the schema") for k in raw if k not in names]
    row: dict[str, Any] = {}
    for c in schema.columns:
        if c.name not in raw:
            problems.append(Problem("missing_column", c.name, f"{c.name}: missing"))
        elif raw[c.name] is None:
            if not c.nullable:
                problems.append(Problem("null_value", c.name, f"{c.name}: null in a non-nullable column"))
            row[c.name] = None
        else:
            row[c.name], p = _typed(c, raw[c.name])
            if p is not None:
                problems.append(p)
    return row, problems


def arrow_schema(schema: RecordSchema) -> pa.Schema:
    return pa.schema([pa.field(c.name, arrow_type(t)) for c, t in zip(schema.columns, _types(schema), strict=True)])


def _types(schema: RecordSchema) -> list[str]:
    return [schema.table_schema().column(c.name).type for c in schema.columns]


def rule_failures(schema: RecordSchema, table: pa.Table) -> list[list[str]]:
    """Per row of `table`, the names of the rules it breaks (a NULL result holds, as in SQL CHECK)."""
    if not schema.rules or table.num_rows == 0:
        return [[] for _ in range(table.num_rows)]
    checks = ", ".join(f"CASE WHEN coalesce(({r.where}), true) THEN NULL ELSE '{r.name}' END" for r in schema.rules)
    with duckdb.connect(":memory:") as con:
        con.register("rows", table)
        got = con.execute(f"SELECT [x FOR x IN [{checks}] IF x IS NOT NULL] FROM rows").fetchall()
    return [list(r[0]) for r in got]


def check_rows(schema: RecordSchema, rows: Sequence[Mapping[str, Any]]) -> Checked:
    out = Checked()
    typed: list[tuple[int, dict[str, Any]]] = []
    for i, raw in enumerate(rows):
        row, problems = _row(schema, raw)
        if problems:
            out.problems[i] = problems
        else:
            typed.append((i, row))
    table = pa.Table.from_pylist([r for _, r in typed], schema=arrow_schema(schema))
    for (i, row), broken in zip(typed, rule_failures(schema, table), strict=True):
        if broken:
            where = {r.name: r.where for r in schema.rules}
            out.problems[i] = [Problem("rule_violation", n, f"rule {n}: `{where[n]}` is false") for n in broken]
        else:
            out.rows.append(row)
            out.index.append(i)
    return out
