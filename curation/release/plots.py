"""PNG plots for the dataset card (matplotlib, Agg backend: no display needed), one per signal, drawn by column type.

Which columns: the categories a reader asks about (source, licence, language, document type, domain, benchmark) and
one column per quality signal (the first present of each group in SIGNALS: `edu_int` rather than its float twin,
`ppl` rather than its NLL and max-line variants), plus any `quality_*` column. How: booleans and categories as bars,
small integer scales (edu 0-5) as bars per value, continuous values as histograms, perplexity on a log scale. Quality
signals compare the candidate rows with the released rows, which shows what the filters did. Binning runs in
DuckDB, so only counts reach Python.
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from curation.release.selection import Selection

CATEGORIES = ("source", "license", "lang", "doc_type", "domain", "benchmark")
# Each group is one signal; the first column present is plotted. (column, axis label)
SIGNALS: tuple[tuple[tuple[str, str], ...], ...] = (
    (("edu_int", "educational score (0-5)"), ("edu_score", "educational score (0-5)")),
    (("ppl", "perplexity (log scale)"), ("perplexity", "perplexity (log scale)")),
    (("heuristic_pass", "passes the heuristic filters"),),
    (("pass_rate", "share of samples reaching the gold answer"),),
)
LOG_SCALE = ("ppl", "perplexity")
_INTEGER = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")
_NUMERIC = (*_INTEGER, "HUGEINT", "FLOAT", "DOUBLE", "DECIMAL")
BINS = 20
MAX_BARS = 25
MAX_INT_VALUES = 12


def _q(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _counts(con: duckdb.DuckDBPyConnection, sql: str, expr: str) -> dict[str, int]:
    rows = con.execute(f"SELECT {expr} AS v, count(*) FROM ({sql}) GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()
    return {str(v): n for v, n in rows}


def _category(con: duckdb.DuckDBPyConnection, sel: Selection, column: str, path: Path) -> Path:
    counts = _counts(con, sel.kept_sql, f"coalesce(CAST({_q(column)} AS VARCHAR), '(none)')")
    shown = list(counts.items())[:MAX_BARS]
    fig, ax = plt.subplots(figsize=(6, 0.6 + 0.28 * max(len(shown), 3)))
    ax.barh([k for k, _ in shown][::-1], [v for _, v in shown][::-1], color="#4c72b0")
    more = f" (top {MAX_BARS} of {len(counts)})" if len(counts) > MAX_BARS else ""
    ax.set_title(f"{sel.config.name}: released rows by {column}{more}")
    ax.set_xlabel("rows")
    ax.set_ylabel(column)
    return _save(fig, path)


def _grouped_bars(con: duckdb.DuckDBPyConnection, sel: Selection, column: str, label: str, path: Path) -> Path:
    """Candidates vs released per value: booleans and small integer scales."""
    expr = f"coalesce(CAST({_q(column)} AS VARCHAR), '(none)')"
    cand, kept = _counts(con, sel.base_sql, expr), _counts(con, sel.kept_sql, expr)
    values = sorted(cand, key=lambda v: (v == "(none)", float(v) if _is_number(v) else 0.0, v))
    fig, ax = plt.subplots(figsize=(6, 3))
    xs = range(len(values))
    ax.bar([x - 0.2 for x in xs], [cand.get(v, 0) for v in values], width=0.4, label="candidates", color="#a6bddb")
    ax.bar([x + 0.2 for x in xs], [kept.get(v, 0) for v in values], width=0.4, label="released", color="#2b8cbe")
    ax.set_xticks(list(xs), values)
    ax.set_title(f"{sel.config.name}: {column}")
    ax.set_xlabel(label)
    ax.set_ylabel("rows")
    ax.legend()
    return _save(fig, path)


def _is_number(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return False
    return True


def _histogram(con: duckdb.DuckDBPyConnection, sel: Selection, column: str, label: str, path: Path) -> Path | None:
    val = f"CAST({_q(column)} AS DOUBLE)"
    lo, hi = con.execute(f"SELECT min({val}), max({val}) FROM ({sel.base_sql}) WHERE {val} > 0").fetchall()[0]
    log = column in LOG_SCALE and lo is not None
    if not log:
        lo, hi = con.execute(f"SELECT min({val}), max({val}) FROM ({sel.base_sql})").fetchall()[0]
    if lo is None:
        return None
    if log:
        val, lo, hi = f"log10({val})", math.log10(lo), math.log10(hi)
    width = (hi - lo) / BINS or 1.0
    fig, ax = plt.subplots(figsize=(6, 3))
    for name, sql, color in (("candidates", sel.base_sql, "#a6bddb"), ("released", sel.kept_sql, "#2b8cbe")):
        b = f"least(CAST(floor(({val} - {lo}) / {width}) AS INTEGER), {BINS - 1})"
        rows = con.execute(
            f"SELECT {b} AS b, count(*) FROM ({sql}) WHERE {val} IS NOT NULL GROUP BY 1 ORDER BY 1"
        ).fetchall()
        edges = [lo + r[0] * width for r in rows]
        if log:
            lefts = [10**e for e in edges]
            widths = [10 ** (e + width) - 10**e for e in edges]
        else:
            lefts, widths = edges, [width] * len(rows)
        ax.bar(lefts, [r[1] for r in rows], width=widths, align="edge", alpha=0.75, label=name, color=color)
    if log:
        ax.set_xscale("log")
    ax.set_title(f"{sel.config.name}: {column}")
    ax.set_xlabel(label)
    ax.set_ylabel("rows")
    ax.legend()
    return _save(fig, path)


def _signal(sel: Selection, group: tuple[tuple[str, str], ...]) -> tuple[str, str] | None:
    return next(((c, label) for c, label in group if c in sel.source_columns), None)


def _plot_signal(
    con: duckdb.DuckDBPyConnection, sel: Selection, column: str, label: str, path: Path
) -> tuple[Path | None, str]:
    """(the plot, its kind): bars for booleans and small integer scales, else a (log-scale) histogram."""
    typ = sel.source_columns[column]
    if typ == "BOOLEAN":
        return _grouped_bars(con, sel, column, label, path), "bars"
    if not typ.startswith(_NUMERIC):
        return None, ""
    if typ.startswith(_INTEGER):
        n = con.execute(f"SELECT count(DISTINCT {_q(column)}) FROM ({sel.base_sql})").fetchall()[0][0]
        if n <= MAX_INT_VALUES:
            return _grouped_bars(con, sel, column, label, path), "bars"
    kind = "log histogram" if column in LOG_SCALE else "histogram"
    return _histogram(con, sel, column, label, path), kind


def render(con: duckdb.DuckDBPyConnection, selections: list[Selection], plots_dir: Path) -> list[dict[str, str]]:
    """Write the plots; returns [{title, path, column, kind}] with paths relative to the release directory."""
    out = []
    for sel in selections:
        name = sel.config.name
        for col in (c for c in CATEGORIES if c in sel.source_columns):
            p = _category(con, sel, col, plots_dir / f"{name}_by_{col}.png")
            rel = f"{plots_dir.name}/{p.name}"
            out.append({"title": f"{name}: released rows by {col}", "path": rel, "column": col, "kind": "bars"})
        signals = [s for s in (_signal(sel, g) for g in SIGNALS) if s]
        signals += [(c, c) for c in sel.source_columns if c.startswith("quality_")]
        for col, label in signals:
            sp, kind = _plot_signal(con, sel, col, label, plots_dir / f"{name}_{col}.png")
            if sp is not None:
                title = f"{name}: {col} (candidates vs released)"
                out.append({"title": title, "path": f"{plots_dir.name}/{sp.name}", "column": col, "kind": kind})
    return out
