"""Lineage of a release: the runs that made its rows, the source files they came from, models and prompts.

Read from the released rows themselves (their run_id and <stage>_run_id columns, source file checksums, model and
prompt columns) and joined with the run records, so the lineage is what the data says, not what a config intended.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb

from curation.release.selection import Selection

_PROMPT_COLUMNS = ("model", "prompt_id", "prompt_version")


def _distinct(con: duckdb.DuckDBPyConnection, sql: str, cols: list[str]) -> list[tuple]:
    sel = ", ".join(f'CAST("{c}" AS VARCHAR)' for c in cols)
    return con.execute(f"SELECT DISTINCT {sel} FROM ({sql}) ORDER BY ALL").fetchall()


def collect(con: duckdb.DuckDBPyConnection, selections: list[Selection]) -> dict[str, Any]:
    run_ids: set[str] = set()
    files: set[tuple[str, str]] = set()
    prompts: set[tuple] = set()
    for s in selections:
        cols = s.source_columns
        for c in (c for c in cols if c == "run_id" or c.endswith("_run_id")):
            run_ids.update(r[0] for r in _distinct(con, s.kept_sql, [c]) if r[0])
        if "source_file" in cols and "source_file_sha256" in cols:
            sql = f"SELECT regexp_extract(source_file, '[^/]+$') AS f, source_file_sha256 FROM ({s.kept_sql})"
            files.update(_distinct(con, sql, ["f", "source_file_sha256"]))
        present = [c for c in _PROMPT_COLUMNS if c in cols]
        if present:
            prompts.update(tuple(zip(present, r, strict=True)) for r in _distinct(con, s.kept_sql, present))
    runs = []
    models: dict[str, Any] = {}
    if run_ids:
        ids = ", ".join("'" + r.replace("'", "''") + "'" for r in sorted(run_ids))
        q = (
            f"SELECT run_id, stage, status, code_version, CAST(models AS VARCHAR) FROM runs "
            f"WHERE run_id IN ({ids}) ORDER BY run_id"
        )
        for run_id, stage, status, code, m in con.execute(q).fetchall():
            runs.append({"run_id": run_id, "stage": stage, "status": status, "code_version": code})
            for k, v in (json.loads(m) if m else {}).items():
                models.setdefault(stage, {})[k] = v
    return {
        "row_run_ids": sorted(run_ids),
        "runs": runs,
        "source_files": [{"file": f, "sha256": h} for f, h in sorted(files)],
        "models": models,
        "prompts": [dict(p) for p in sorted(prompts)],
    }
