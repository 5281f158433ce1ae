"""Diff a release against the previous release of the same name: keys added and removed, per config."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import duckdb

EXAMPLES = 10


def version_tuple(v: str) -> tuple[int, ...]:
    m = re.match(r"^(\d+)\.(\d+)\.(\d+)", v)
    if m is None:
        raise ValueError(f"not a release version (MAJOR.MINOR.PATCH): {v!r}")
    return tuple(int(x) for x in m.groups())


def find_previous(name_dir: Path, version: str) -> Path | None:
    """The highest released version below `version` (a directory with a manifest.json)."""
    cands = [
        d
        for d in name_dir.glob("*")
        if d.is_dir()
        and not d.name.startswith(".")
        and (d / "manifest.json").is_file()
        and re.match(r"^\d+\.\d+\.\d+", d.name)
        and version_tuple(d.name) < version_tuple(version)
    ]
    return max(cands, key=lambda d: version_tuple(d.name), default=None)


def _keys_sql(release_dir: Path, config: str, key: str) -> str | None:
    files = sorted((release_dir / "data" / config).glob("*/*.parquet"))
    if not files:
        return None
    paths = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
    return f'SELECT DISTINCT CAST("{key}" AS VARCHAR) AS k FROM read_parquet([{paths}])'


def diff(previous: Path | None, current: Path, keys: dict[str, str]) -> dict[str, Any]:
    """keys: config name -> key column. Counts and a few example keys of rows added and removed."""
    if previous is None:
        return {"previous_version": None, "configs": {}}
    prev_keys = json.loads((previous / "manifest.json").read_text()).get("keys", {})
    con = duckdb.connect()
    out: dict[str, Any] = {}
    for config in sorted(set(keys) | set(prev_keys)):
        new = _keys_sql(current, config, keys.get(config, prev_keys.get(config, "")))
        old = _keys_sql(previous, config, prev_keys.get(config, keys.get(config, "")))
        empty = "SELECT NULL::VARCHAR AS k WHERE false"
        new, old = new or empty, old or empty
        res = {}
        for label, a, b in (("added", new, old), ("removed", old, new)):
            q = f"SELECT k FROM ({a}) EXCEPT SELECT k FROM ({b})"
            n = con.execute(f"SELECT count(*) FROM ({q})").fetchall()[0][0]
            ex = [r[0] for r in con.execute(f"SELECT k FROM ({q}) ORDER BY k LIMIT {EXAMPLES}").fetchall()]
            res[label], res[f"{label}_examples"] = n, ex
        out[config] = res
    con.close()
    return {"previous_version": previous.name, "configs": out}
