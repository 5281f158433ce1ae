"""PNG plots for the dataset card (matplotlib, Agg backend: no display needed).

Quality columns (edu_*, ppl/perplexity, heuristic_*, quality_*) are plotted as histograms of the candidate rows
versus the released rows, which shows what the filters did; counts by source and licence are always plotted.
Binning runs in DuckDB, so only bin counts reach Python.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from curation.release.selection import Selection

QUALITY_COLUMN = re.compile(r"^(edu_|ppl|perplexity|heuristic|quality_)")
_NUMERIC = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "FLOAT",
    "DOUBLE",
    "DECIMAL",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
)
BINS = 20


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _bar(con: duckdb.DuckDBPyConnection, sel: Selection, column: str, path: Path) -> Path:
    rows = con.execute(
        f"SELECT coalesce(CAST(\"{column}\" AS VARCHAR), '(none)') AS v, count(*) FROM ({sel.kept_sql}) "
        "GROUP BY 1 ORDER BY 2 DESC LIMIT 25"
    ).fetchall()
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.barh([r[0] for r in rows][::-1], [r[1] for r in rows][::-1])
    ax.set_title(f"{sel.config.name}: released rows by {column}")
    ax.set_xlabel("rows")
    return _save(fig, path)


def _hist(con: duckdb.DuckDBPyConnection, sel: Selection, column: str, is_bool: bool, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6, 3))
    val = f'CAST("{column}" AS DOUBLE)' if not is_bool else f'CAST("{column}" AS INTEGER)'
    lo, hi = con.execute(f"SELECT min({val}), max({val}) FROM ({sel.base_sql})").fetchall()[0]
    if lo is None:
        plt.close(fig)
        return None
    width = (hi - lo) / BINS or 1.0
    for label, sql in (("candidates", sel.base_sql), ("released", sel.kept_sql)):
        b = f"least(CAST(floor(({val} - {lo}) / {width}) AS INTEGER), {BINS - 1})"
        rows = con.execute(
            f"SELECT {b} AS b, count(*) FROM ({sql}) WHERE {val} IS NOT NULL GROUP BY 1 ORDER BY 1"
        ).fetchall()
        ax.bar(
            [lo + (r[0] + 0.5) * width for r in rows], [r[1] for r in rows], width=width * 0.9, alpha=0.6, label=label
        )
    ax.set_title(f"{sel.config.name}: {column}")
    ax.set_ylabel("rows")
    ax.legend()
    return _save(fig, path)


def render(con: duckdb.DuckDBPyConnection, selections: list[Selection], plots_dir: Path) -> list[dict[str, str]]:
    """Write the plots; returns [{title, path}] with paths relative to the release directory."""
    out = []
    for sel in selections:
        name = sel.config.name
        for col in ("source", "license"):
            if col in sel.source_columns:
                p = _bar(con, sel, col, plots_dir / f"{name}_by_{col}.png")
                out.append({"title": f"{name}: rows by {col}", "path": f"{plots_dir.name}/{p.name}"})
        for col, typ in sel.source_columns.items():
            is_bool = typ == "BOOLEAN"
            if QUALITY_COLUMN.match(col) and (is_bool or typ.startswith(_NUMERIC)):
                p = _hist(con, sel, col, is_bool, plots_dir / f"{name}_{col}.png")
                if p is not None:
                    out.append(
                        {"title": f"{name}: {col} (candidates vs released)", "path": f"{plots_dir.name}/{p.name}"}
                    )
    return out
