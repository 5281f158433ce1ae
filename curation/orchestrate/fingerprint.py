"""When may a build skip a stage? When nothing it depends on changed since its last successful run.

A stage's fingerprint hashes:
- its manifest section(s) (the stage's own key plus any `extra_sections` it declares: ingest adds `sources`),
- the code version (package version + git commit),
- for ingest, each source file's path, size and mtime (the ingest ledger still skips by sha256 inside the stage),
- a snapshot of the tables written by the stages upstream of it (unit and part names, sizes, mtimes: cheap stats,
  no reads) and of the tables it writes itself, so a stage whose outputs were removed or rewritten runs again.

Which tables a stage writes comes from its run records' outputs (saved in its state), plus the tables the stage
declares (`Stage.tables()`). The last successful fingerprint is
stored per stage in <warehouse>/state/<stage>.json (atomically). Stage flows stay idempotent on their own; the
fingerprint only saves a build from calling a stage that would redo or re-check finished work.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from curation.manifest import Manifest
from curation.stages import STAGES, pipeline
from curation.warehouse.runs import code_version, load_run
from curation.warehouse.schemas import all_schemas
from curation.warehouse.store import Warehouse, atomic_write_text

SHARED_TABLES = frozenset({"quarantine"})  # every stage writes it; it never decides whether another stage reruns


def _sha(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def state_path(wh: Warehouse, stage: str):
    return wh.root / "state" / f"{stage}.json"


def load_state(wh: Warehouse, stage: str) -> dict[str, Any] | None:
    try:
        return json.loads(state_path(wh, stage).read_text())
    except (OSError, ValueError):
        return None


def save_state(wh: Warehouse, stage: str, state: dict[str, Any]) -> None:
    atomic_write_text(state_path(wh, stage), json.dumps(state, indent=1, sort_keys=True, default=str))


def stage_tables(wh: Warehouse, stage: str) -> set[str]:
    """The tables a stage declares, plus those its last successful run wrote."""
    state = load_state(wh, stage) or {}
    return (set(STAGES.get(stage).tables()) | set(state.get("tables", []))) - SHARED_TABLES


def run_output_tables(wh: Warehouse, run_id: str | None) -> set[str]:
    """The tables a stage run recorded as outputs (`run.add_output`)."""
    if not run_id:
        return set()
    try:
        record = load_run(wh, run_id)
    except (KeyError, OSError, ValueError):
        return set()
    return {o["table"] for o in record.get("outputs", []) if o.get("table")} - SHARED_TABLES


def table_snapshot(wh: Warehouse, tables: set[str]) -> dict[str, str]:
    """Per table, a hash of its published units' part names, sizes and mtimes."""
    snap = {}
    known = all_schemas()
    for table in sorted(t for t in tables if t in known):
        parts = []
        for f in wh.files(table):
            st = f.stat()
            parts.append((f.parent.name, f.name, st.st_size, st.st_mtime_ns))
        snap[table] = _sha(parts)
    return snap


def _source_stats(manifest: Manifest) -> list[tuple[str, int, int]]:
    out = []
    for src in manifest.sources:
        for p in manifest.source_files(src):
            st = os.stat(p)
            out.append((str(p), st.st_size, st.st_mtime_ns))
    return out


def stage_fingerprint(
    manifest: Manifest, wh: Warehouse, stage: str, own: set[str] | None = None
) -> tuple[str, dict[str, Any]]:
    """(fingerprint, the parts it hashes) of a stage against the warehouse as it is now; `own` overrides the
    stage's recorded output tables (right after a run, before its state is saved)."""
    spec = STAGES.get(stage)
    dumped = manifest.model_dump(mode="json", by_alias=True)
    config = {k: dumped.get(k) for k in (spec.section, *spec.extra_sections)}
    upstream: set[str] = set()
    for s in [x.name for x in pipeline() if x.order < spec.order]:
        upstream |= stage_tables(wh, s)
    own = stage_tables(wh, stage) if own is None else own - SHARED_TABLES
    parts: dict[str, Any] = {
        "stage": stage,
        "config": config,
        "code_version": code_version(),
        "upstream_tables": table_snapshot(wh, upstream - own),
        "own_tables": table_snapshot(wh, own),
    }
    if "sources" in spec.extra_sections:
        parts["source_files"] = _source_stats(manifest)
    return _sha(parts), parts
