"""Lineage of a release: the runs that made its rows, the source files they came from, models and prompts.

Read from the released rows themselves (their run_id and <stage>_run_id columns, source file checksums, model and
prompt columns) and joined with the run records, so the lineage is what the data says, not what a config intended.
A model named by a local path is recorded as its public Hugging Face id (from a hub cache path) or as a path relative
to the repository (or working directory); a release never carries the builder's absolute paths.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import duckdb

from curation.release.selection import Selection

_PROMPT_COLUMNS = ("model", "prompt_id", "prompt_version")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[A-Za-z0-9][\w.\-]*$")
_HUB_CACHE = re.compile(r"models--([^/]+?)--([^/]+)")
_CODE_ROOT = Path(__file__).resolve().parents[2]


def public_ref(value: str) -> str:
    """A model or file reference fit to publish: a Hub id, or a repository-relative path, never an absolute one."""
    m = _HUB_CACHE.search(value)
    if m:
        return f"{m.group(1)}/{m.group(2)}"
    if _HUB_ID.match(value) or not (value.startswith(("/", "~")) or re.match(r"^[A-Za-z]:[\\/]", value)):
        return value
    path = Path(value).expanduser()
    for root in (_CODE_ROOT, Path.cwd()):
        if path.is_relative_to(root):
            return path.relative_to(root).as_posix()
    return f"{path.name} (local)"


def public_paths(text: str) -> str:
    """`text` with every absolute path in it replaced by its public_ref (e.g. `ref-lm@abc` versions stay)."""
    return re.sub(r"(?<![\w.])/[^\s,;@'\"()]+", lambda m: public_ref(m.group(0)), text)


def model_rows(models: dict[str, Any]) -> list[list[str]]:
    """[stage, role, model, details] rows from run records' `models` (strings or dicts), for a readable table."""
    rows = []
    for stage, roles in sorted(models.items()):
        for role, v in sorted(roles.items()):
            if isinstance(v, dict):
                model = public_paths(str(v.get("model", "")))
                details = ", ".join(f"{k}: {_flat(x)}" for k, x in sorted(v.items()) if k != "model")
            else:
                model, details = public_paths(str(v)), ""
            rows.append([stage, role, model, details])
    return rows


def _flat(v: Any) -> str:
    if isinstance(v, dict):
        return " ".join(f"{k}={_flat(x)}" for k, x in sorted(v.items()))
    return public_paths(str(v))


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
            prompts.update(
                tuple((c, public_paths(v) if c == "model" and v else v) for c, v in zip(present, r, strict=True))
                for r in _distinct(con, s.kept_sql, present)
            )
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
                models.setdefault(stage, {})[k] = json.loads(public_paths(json.dumps(v)))
    return {
        "row_run_ids": sorted(run_ids),
        "runs": runs,
        "source_files": [{"file": f, "sha256": h} for f, h in sorted(files)],
        "models": models,
        "prompts": [dict(p) for p in sorted(prompts)],
    }
