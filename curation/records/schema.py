"""The record schema (YAML, a file or inline in the manifest): typed columns with ranges, categories and
nullability, and named cross-column rules that are boolean DuckDB expressions over one row.

Rules follow SQL CHECK semantics: a rule that evaluates to NULL (a null input) holds. At check time the schema is
refused when a rule does not parse, names an unknown column or is not boolean, when a column's min exceeds its max,
and when rules contradict each other where that is decidable cheaply:
- over columns with a small finite domain (bool, category, int with min and max, plus NULL when nullable), every
  combination of values is enumerated (up to `MAX_ENUMERATION` rows): a rule no combination satisfies, and a set of
  such rules no combination satisfies together, are contradictions;
- for other numeric and date columns, rules that are comparisons of one column with a constant (`age >= 18`,
  joined by AND) are intersected with each other and the column's range: an empty interval is a contradiction.
Contradictions that need reasoning beyond these two (e.g. `a > b AND b > a` over floats) are not detected.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
from pathlib import Path
from typing import Any, Literal

import duckdb
import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from curation.config_base import StrictModel
from curation.warehouse.schemas import Column, TableSchema

ColumnType = Literal["int", "float", "bool", "category", "string", "date"]
SQL_TYPES = {"int": "BIGINT", "float": "DOUBLE", "bool": "BOOLEAN", "category": "VARCHAR", "string": "VARCHAR"}
SQL_TYPES["date"] = "DATE"
TABLE_TYPES = {"int": "int64", "float": "float64", "bool": "bool", "category": "string", "string": "string"}
TABLE_TYPES["date"] = "date"
MAX_ENUMERATION = 100_000
MAX_INT_DOMAIN = 200
_IDENT = r"^[A-Za-z_][A-Za-z0-9_]*$"
_STRING = re.compile(r"'(?:[^']|'')*'")
_WORDS = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")
_NUM = r"(-?\d+(?:\.\d+)?)"
_CMP = re.compile(rf"^\s*(?:([A-Za-z_]\w*)\s*(<=|>=|<|>|=)\s*{_NUM}|{_NUM}\s*(<=|>=|<|>|=)\s*([A-Za-z_]\w*))\s*$")
_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "="}


class RecordColumn(StrictModel):
    name: str = Field(pattern=_IDENT)
    type: ColumnType
    values: list[str] | None = Field(None, description="category: the allowed values")
    min: float | dt.date | None = None
    max: float | dt.date | None = None
    nullable: bool = False
    description: str = ""

    @field_validator("values", mode="before")
    @classmethod
    def _as_strings(cls, v: Any) -> Any:
        return [str(x) for x in v] if isinstance(v, list) else v

    @model_validator(mode="after")
    def _check(self) -> RecordColumn:
        if (self.type == "category") != bool(self.values):
            raise ValueError(f"column {self.name}: `values` is for category columns, which need at least one")
        if (self.min is not None or self.max is not None) and self.type not in ("int", "float", "date"):
            raise ValueError(f"column {self.name}: min/max are for int, float and date columns")
        for bound in (self.min, self.max):
            if bound is not None and isinstance(bound, dt.date) != (self.type == "date"):
                raise ValueError(f"column {self.name}: min/max must be {'dates' if self.type == 'date' else 'numbers'}")
        if self.min is not None and self.max is not None and self.min > self.max:  # type: ignore[operator]
            raise ValueError(f"column {self.name}: min {self.min} > max {self.max}")
        return self

    def domain(self) -> list[Any] | None:
        """Every value the column can take when that is a small finite set (None otherwise)."""
        values: list[Any]
        if self.type == "bool":
            values = [True, False]
        elif self.type == "category":
            values = list(self.values or [])
        elif self.type == "int" and self.min is not None and self.max is not None:
            lo, hi = math.ceil(float(self.min)), math.floor(float(self.max))  # type: ignore[arg-type]
            if hi - lo + 1 > MAX_INT_DOMAIN:
                return None
            values = list(range(lo, hi + 1))
        else:
            return None
        return [*values, None] if self.nullable else values


class RecordRule(StrictModel):
    name: str = Field(pattern=_IDENT)
    where: str = Field(min_length=1, description="a boolean DuckDB expression over the row's columns")
    description: str = ""

    @field_validator("where")
    @classmethod
    def _one_expression(cls, v: str) -> str:
        if ";" in _STRING.sub("''", v):
            raise ValueError("a rule is one expression (no ';')")
        return v


class RecordSchema(StrictModel):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="the table is records_<name>")
    description: str = ""
    columns: list[RecordColumn] = Field(min_length=1)
    rules: list[RecordRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> RecordSchema:
        for what, names in (("column", [c.name for c in self.columns]), ("rule", [r.name for r in self.rules])):
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"duplicate {what} names: {dupes}")
        reserved = {"record_id", "run_id"} & {c.name for c in self.columns}
        if reserved:
            raise ValueError(f"column names {sorted(reserved)} are reserved")
        with duckdb.connect(":memory:") as con:
            con.execute(f"CREATE TABLE rows ({self.sql_columns()})")
            for r in self.rules:
                try:
                    kind = con.execute(f"DESCRIBE SELECT ({r.where}) AS ok FROM rows").fetchall()[0][1]
                except duckdb.Error as e:
                    raise ValueError(f"rule {r.name}: {str(e).splitlines()[0]}") from None
                if kind != "BOOLEAN":
                    raise ValueError(f"rule {r.name}: is {kind}, not a boolean expression")
            problems = contradictions(self, con)
        if problems:
            raise ValueError("contradictory rules: " + "; ".join(problems))
        return self

    @property
    def table(self) -> str:
        return f"records_{self.name}"

    def column(self, name: str) -> RecordColumn:
        return next(c for c in self.columns if c.name == name)

    def sql_columns(self) -> str:
        return ", ".join(f'"{c.name}" {SQL_TYPES[c.type]}' for c in self.columns)

    def rule_columns(self, rule: RecordRule) -> list[str]:
        words = set(_WORDS.findall(_STRING.sub("''", rule.where)))
        return [c.name for c in self.columns if c.name in words]

    def table_schema(self) -> TableSchema:
        """The warehouse table records_<name>: record_id, the columns, run_id."""
        cols = [Column("record_id", "string", False, "hash of the generator settings and the row's index")]
        cols += [Column(c.name, TABLE_TYPES[c.type], c.nullable, c.description) for c in self.columns]
        cols.append(Column("run_id", "string", False))
        desc = self.description or f"patient records of the record schema {self.name!r}"
        return TableSchema(self.table, ("record_id",), tuple(cols), desc, self.table)


def _enumeration_problems(schema: RecordSchema, con: duckdb.DuckDBPyConnection) -> list[str]:
    finite = {c.name: d for c in schema.columns if (d := c.domain()) is not None}
    rules = [r for r in schema.rules if schema.rule_columns(r) and set(schema.rule_columns(r)) <= set(finite)]
    problems = []

    def satisfiable(group: list[RecordRule]) -> bool | None:
        cols = sorted({c for r in group for c in schema.rule_columns(r)})
        if math.prod(len(finite[c]) for c in cols) > MAX_ENUMERATION:
            return None
        con.execute("DROP TABLE IF EXISTS combos")
        con.execute(
            f"CREATE TABLE combos ({', '.join(f'{chr(34)}{c}{chr(34)} {SQL_TYPES[schema.column(c).type]}' for c in cols)})"
        )
        con.executemany(
            f"INSERT INTO combos VALUES ({', '.join('?' * len(cols))})",
            list(itertools.product(*(finite[c] for c in cols))),
        )
        cond = " AND ".join(f"coalesce(({r.where}), true)" for r in group)
        return bool(con.execute(f"SELECT count(*) FROM combos WHERE {cond}").fetchone()[0])  # type: ignore[index]

    for r in rules:
        if satisfiable([r]) is False:
            cols = ", ".join(schema.rule_columns(r))
            problems.append(f"rule {r.name} holds for no value of ({cols})")
    alone_ok = [r for r in rules if not any(r.name in p for p in problems)]
    if len(alone_ok) > 1 and satisfiable(alone_ok) is False:
        problems.append(f"rules {', '.join(r.name for r in alone_ok)} hold together for no combination of values")
    return problems


def _bounds(rule: RecordRule) -> list[tuple[str, str, float]] | None:
    """(column, op, constant) for a rule that is only comparisons of a column with a number joined by AND."""
    parts = re.split(r"\s+AND\s+", rule.where.strip(), flags=re.IGNORECASE)
    out = []
    for p in parts:
        m = _CMP.match(p.strip("() "))
        if m is None:
            return None
        if m.group(1):
            out.append((m.group(1), m.group(2), float(m.group(3))))
        else:
            out.append((m.group(6), _FLIP[m.group(5)], float(m.group(4))))
    return out


def _interval_problems(schema: RecordSchema) -> list[str]:
    numeric = {c.name: c for c in schema.columns if c.type in ("int", "float") and c.domain() is None}
    lo: dict[str, tuple[float, bool, str]] = {}  # column -> (bound, strict, who)
    hi: dict[str, tuple[float, bool, str]] = {}
    for name, c in numeric.items():
        if c.min is not None:
            lo[name] = (float(c.min), False, f"{name}'s min")  # type: ignore[arg-type]
        if c.max is not None:
            hi[name] = (float(c.max), False, f"{name}'s max")  # type: ignore[arg-type]
    for r in schema.rules:
        for col, op, k in _bounds(r) or []:
            if col not in numeric:
                continue
            if op in (">", ">=", "=") and (col not in lo or (k, op == ">") > lo[col][:2]):
                lo[col] = (k, op == ">", f"rule {r.name}")
            if op in ("<", "<=", "=") and (col not in hi or (k, op != "<") < (hi[col][0], not hi[col][1])):
                hi[col] = (k, op == "<", f"rule {r.name}")
    problems = []
    for col in sorted(set(lo) & set(hi)):
        (a, a_strict, who_a), (b, b_strict, who_b) = lo[col], hi[col]
        integer = numeric[col].type == "int"
        if integer:
            a, b = (math.floor(a) + 1 if a_strict else math.ceil(a)), (math.ceil(b) - 1 if b_strict else math.floor(b))
        if a > b or (a == b and not integer and (a_strict or b_strict)):
            problems.append(f"{who_a} and {who_b} leave no non-null value for {col}")
    return problems


def contradictions(schema: RecordSchema, con: duckdb.DuckDBPyConnection) -> list[str]:
    """The contradictions the module docstring lists, each naming its rules (or the column's range)."""
    return _enumeration_problems(schema, con) + _interval_problems(schema)


def load_record_schema(spec: str | dict[str, Any], base: Path) -> RecordSchema:
    """An inline mapping, or a YAML file path (relative to `base`, the manifest's directory)."""
    if isinstance(spec, dict):
        return RecordSchema.model_validate(spec)
    path = Path(spec).expanduser()
    path = path if path.is_absolute() else base / path
    if not path.is_file():
        raise ValueError(f"record schema not found: {path}")
    try:
        return RecordSchema.model_validate(yaml.safe_load(path.read_text()) or {})
    except ValidationError as e:
        msgs = [("".join(f"{p}." for p in d["loc"]) + " " if d["loc"] else "") + d["msg"] for d in e.errors()]
        raise ValueError(f"{path.name}: " + "; ".join(m.replace("Value error, ", "") for m in msgs)) from None
