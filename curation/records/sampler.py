"""SimSUM-style sampling: categorical and bool columns from a small Bayesian network (each node's conditional
probability table given its parents, sampled in topological order), numeric and date columns from declared
distributions (optionally with parameters per value of one network node), all from one seeded generator.

Network tables are written value → probability; a node with parents has one table per combination of its
parents' values, keyed by the values joined with ","(`"true,F"`). Bool values are written true / false.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from curation.config_base import StrictModel
from curation.records.schema import RecordSchema

TOLERANCE = 1e-6


def value_key(v: Any) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


class Node(StrictModel):
    parents: list[str] = Field(default_factory=list)
    p: dict[str, float] | None = Field(None, description="a node without parents: value -> probability")
    cpt: dict[str, dict[str, float]] | None = Field(None, description="parent values joined by ',' -> value -> p")

    @model_validator(mode="before")
    @classmethod
    def _string_keys(cls, data: Any) -> Any:
        """YAML reads `true:` as a bool key: keys are compared as text."""
        if isinstance(data, dict):
            data = dict(data)
            if isinstance(data.get("p"), dict):
                data["p"] = {value_key(k): v for k, v in data["p"].items()}
            if isinstance(data.get("cpt"), dict):
                data["cpt"] = {value_key(k): {value_key(a): b for a, b in t.items()} for k, t in data["cpt"].items()}
        return data


class Numeric(StrictModel):
    dist: Literal["normal", "lognormal", "uniform", "poisson"]
    params: dict[str, float] = Field(
        default_factory=dict,
        description="normal: mean, sd; lognormal: mean, sigma "
        "(of the log); uniform: low, high (dates: the column's min/max); poisson: lam",
    )
    by: str | None = Field(None, description="a network node whose value selects `per` parameters")
    per: dict[str, dict[str, float]] = Field(default_factory=dict)
    null_rate: float = Field(0.0, ge=0.0, le=1.0)

    @model_validator(mode="before")
    @classmethod
    def _string_keys(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("per"), dict):
            data = {**data, "per": {value_key(k): v for k, v in data["per"].items()}}
        return data


_NEEDS = {"normal": {"mean", "sd"}, "lognormal": {"mean", "sigma"}, "uniform": {"low", "high"}, "poisson": {"lam"}}


class Generator(StrictModel):
    network: dict[str, Node] = Field(default_factory=dict)
    numeric: dict[str, Numeric] = Field(default_factory=dict)

    def order(self) -> list[str]:
        """Network nodes, parents first; a cycle or an undeclared parent is an error."""
        done: list[str] = []
        todo = dict(self.network)
        while todo:
            ready = [n for n, node in todo.items() if all(p in done for p in node.parents)]
            if not ready:
                missing = sorted({p for node in todo.values() for p in node.parents if p not in self.network})
                raise ValueError(
                    f"network: undeclared parents {missing}" if missing else f"network: a cycle among {sorted(todo)}"
                )
            for n in ready:
                done.append(n)
                del todo[n]
        return done

    def check(self, schema: RecordSchema) -> None:
        """Every column has exactly one generator (or is nullable), every table is complete and sums to 1."""
        names = {c.name for c in schema.columns}
        for col in [*self.network, *self.numeric]:
            if col not in names:
                raise ValueError(f"generator for {col!r}, which is not a column of {schema.name}")
        both = set(self.network) & set(self.numeric)
        if both:
            raise ValueError(f"columns in both network and numeric: {sorted(both)}")
        bare = [c.name for c in schema.columns if c.name not in self.network and c.name not in self.numeric]
        if [n for n in bare if not schema.column(n).nullable]:
            raise ValueError(
                f"no generator for the non-nullable columns {[n for n in bare if not schema.column(n).nullable]}"
            )
        for name in self.order():
            self._check_node(schema, name)
        for name, num in self.numeric.items():
            self._check_numeric(schema, name, num)

    def _values(self, schema: RecordSchema, name: str) -> list[str]:
        c = schema.column(name)
        if c.type not in ("bool", "category"):
            raise ValueError(f"network node {name}: a {c.type} column (nodes are bool or category columns)")
        return ["true", "false"] if c.type == "bool" else list(c.values or [])

    def _check_node(self, schema: RecordSchema, name: str) -> None:
        node, values = self.network[name], self._values(schema, name)
        if bool(node.parents) == (node.p is not None) or bool(node.parents) != (node.cpt is not None):
            raise ValueError(f"network node {name}: `p` without parents, `cpt` with parents")
        combos = [",".join(c) for c in itertools.product(*(self._values(schema, p) for p in node.parents))]
        tables = node.cpt or {"": node.p or {}}
        missing, extra = sorted(set(combos or [""]) - set(tables)), sorted(set(tables) - set(combos or [""]))
        if missing or extra:
            raise ValueError(f"network node {name}: cpt rows missing {missing}, unknown {extra}")
        for key, t in tables.items():
            unknown = sorted(set(t) - set(values))
            total = sum(t.values())
            if unknown or abs(total - 1) > TOLERANCE or min(t.values(), default=0) < 0:
                where = f" given {key}" if key else ""
                raise ValueError(
                    f"network node {name}{where}: values {sorted(t)} must be of {values}, ≥ 0, sum {total} ≠ 1"
                )

    def _check_numeric(self, schema: RecordSchema, name: str, num: Numeric) -> None:
        c = schema.column(name)
        if c.type not in ("int", "float", "date"):
            raise ValueError(f"numeric {name}: a {c.type} column")
        if c.type == "date" and (num.dist != "uniform" or c.min is None or c.max is None):
            raise ValueError(f"numeric {name}: a date column takes dist uniform between its min and max")
        if num.by is not None and num.by not in self.network:
            raise ValueError(f"numeric {name}: by {num.by!r} is not a network node")
        for params in [num.params, *({**num.params, **p} for p in num.per.values())]:
            if c.type != "date" and set(params) != _NEEDS[num.dist]:
                raise ValueError(f"numeric {name}: {num.dist} takes {sorted(_NEEDS[num.dist])}, got {sorted(params)}")

    def sample(self, schema: RecordSchema, n: int, seed: int) -> list[dict[str, Any]]:
        rng = np.random.default_rng(seed)
        cols: dict[str, np.ndarray] = {}
        for name in self.order():
            cols[name] = self._sample_node(schema, name, cols, n, rng)
        for name, num in self.numeric.items():
            cols[name] = self._sample_numeric(schema, name, num, cols, n, rng)
        rows = []
        for i in range(n):
            row: dict[str, Any] = {c.name: None for c in schema.columns}
            for name, values in cols.items():
                row[name] = _python(schema.column(name).type, values[i])
            rows.append(row)
        return rows

    def _sample_node(
        self, schema: RecordSchema, name: str, cols: dict[str, np.ndarray], n: int, rng: np.random.Generator
    ) -> np.ndarray:
        node = self.network[name]
        keys = np.array(
            [",".join(t) for t in zip(*(cols[p] for p in node.parents), strict=True)] if node.parents else [""] * n
        )
        out = np.empty(n, dtype=object)
        for key, table in (node.cpt or {"": node.p or {}}).items():
            idx = np.flatnonzero(keys == key)
            values = list(table)
            out[idx] = np.array(values, dtype=object)[rng.choice(len(values), size=len(idx), p=list(table.values()))]
        return out

    def _sample_numeric(
        self,
        schema: RecordSchema,
        name: str,
        num: Numeric,
        cols: dict[str, np.ndarray],
        n: int,
        rng: np.random.Generator,
    ) -> np.ndarray:
        c = schema.column(name)
        out = np.empty(n, dtype=object)
        groups = (
            {"": np.arange(n)} if num.by is None else {v: np.flatnonzero(cols[num.by] == v) for v in set(cols[num.by])}
        )
        for value, idx in groups.items():
            params = {**num.params, **num.per.get(value, {})}
            if c.type == "date":
                lo, hi = c.min.toordinal(), c.max.toordinal()  # type: ignore[union-attr]
                out[idx] = [dt.date.fromordinal(int(d)) for d in rng.integers(lo, hi + 1, size=len(idx))]
                continue
            x = _draw(num.dist, params, len(idx), rng)
            if c.type == "int":
                x = np.round(x)
            out[idx] = np.clip(x, -np.inf if c.min is None else float(c.min), np.inf if c.max is None else float(c.max))  # type: ignore[arg-type]
        if num.null_rate:
            out[rng.random(n) < num.null_rate] = None
        return out


def _draw(dist: str, p: dict[str, float], size: int, rng: np.random.Generator) -> np.ndarray:
    if dist == "normal":
        return rng.normal(p["mean"], p["sd"], size)
    if dist == "lognormal":
        return rng.lognormal(p["mean"], p["sigma"], size)
    if dist == "uniform":
        return rng.uniform(p["low"], p["high"], size)
    return rng.poisson(p["lam"], size).astype(float)


def _python(kind: str, v: Any) -> Any:
    if v is None:
        return None
    if kind == "bool":
        return v == "true"
    if kind == "int":
        return int(v)
    if kind == "float":
        return float(v)
    return v
