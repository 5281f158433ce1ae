"""Build one release: select, split, shard, validate, plot, diff, card, manifest.json, then publish atomically.

Everything is written into a hidden staging directory beside the final one and renamed into place at the end, so a
failed release (bad rule, empty selection, failed validation) leaves nothing a reader could mistake for a release.
"""

from __future__ import annotations

import datetime as dt
import functools
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from curation.errors import disk_full_as
from curation.manifest import Manifest
from curation.progress import tracker
from curation.release import card, diff, lineage, manifest_json, paths, plots, publish, validation
from curation.release.config import VERSION_RE
from curation.release.errors import ReleaseError
from curation.release.paths import safe_name
from curation.release.selection import Selection, check_not_empty, select
from curation.release.shards import write_partition
from curation.release.splits import BUCKETS, SPLITS
from curation.warehouse import Warehouse, connect
from curation.warehouse.runs import RunRecorder, code_version
from curation.warehouse.schemas import all_schemas
from curation.warehouse.store import crash_point


@dataclass
class ReleaseRequest:
    version: str
    out: Path
    force: bool = False
    publish: str = "local"
    dry_run: bool = False


def _selections(con: duckdb.DuckDBPyConnection, manifest: Manifest) -> list[Selection]:
    sels = []
    for cfg in manifest.release.configs:
        sel = select(con, cfg, manifest.release)
        if (cfg.optional and sel.rows_in == 0) or (cfg.allow_empty and sel.rows_out == 0):
            continue
        check_not_empty(sel)
        sels.append(sel)
    if not sels:
        names = [c.name for c in manifest.release.configs]
        raise ReleaseError(
            f"nothing to release: every config ({', '.join(names)}) is optional and its source has no rows; "
            "run the stages that fill them (or raise the synth limits) first"
        )
    return sels


def _write_config(
    con: duckdb.DuckDBPyConnection, sel: Selection, stage: Path, manifest: Manifest
) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, dict[str, int]]]]:
    """Write every (licence bucket, split) partition; (rows, sizes) per bucket and split, for the card."""
    splits: dict[str, dict[str, int]] = {}
    sizes: dict[str, dict[str, dict[str, int]]] = {}
    for bucket in BUCKETS:
        for split in SPLITS:
            shards = write_partition(
                con,
                sel.partition_sql(bucket, split),
                stage / "data" / sel.config.name / bucket,
                split,
                target_bytes=manifest.release.shard_target_bytes,
                target_rows=manifest.release.shard_target_rows,
            )
            if shards:
                splits.setdefault(bucket, {})[split] = sum(s.rows for s in shards)
                sizes.setdefault(bucket, {})[split] = {
                    "num_bytes": sum(s.nbytes for s in shards),
                    "download_size": sum(s.path.stat().st_size for s in shards),
                }
    return splits, sizes


def _group_counts(con: duckdb.DuckDBPyConnection, sel: Selection, column: str) -> dict[str, int]:
    if column not in sel.source_columns:
        return {}
    q = f"SELECT coalesce(CAST(\"{column}\" AS VARCHAR), 'unknown'), count(*) FROM ({sel.kept_sql}) GROUP BY 1"
    return dict(con.execute(q).fetchall())


def _suite_table(sel: Selection) -> str:
    """The warehouse table whose schema and suite describe this config's rows."""
    source = sel.config.source
    if sel.config.validate_table:
        return sel.config.validate_table
    if source.startswith("documents_"):
        return "documents"
    base = source.removesuffix("_checked")  # a synthetic table with its decontamination columns
    return base if base != source and base in all_schemas() else source


def _validate(con: duckdb.DuckDBPyConnection, sel: Selection, run_id: str, out_dir: Path) -> dict[str, Any]:
    table = _suite_table(sel)
    schema = all_schemas().get(table)
    cols = [c for c in schema.names if c in sel.source_columns] if schema else list(sel.source_columns)
    names = ", ".join(f'"{c}"' for c in cols)
    rows = con.sql(f"SELECT {names} FROM ({sel.kept_sql})")
    return validation.validate_rows(con, table, rows, run_id, out_dir)


def _config_facts(con: duckdb.DuckDBPyConnection, sel: Selection, splits: dict, sizes: dict) -> dict[str, Any]:
    c = sel.config
    return {
        "source": c.source,
        "key": c.key,
        "split_key": sel.split_key,
        "mixture": {
            "weight": c.weight,
            "order_by": c.order_by,
            "balance_by": c.balance_by,
            "balance_per_value": c.balance_per_value,
            "format": c.format.kind if c.format else None,
        },
        "task_category": c.task_category,
        "columns": sel.columns,
        "rows_in": sel.rows_in,
        "rows_out": sel.rows_out,
        "rules": [{"name": e.name, "where": e.where, "removed": e.removed, "builtin": e.builtin} for e in sel.effects],
        "splits": splits,
        "sizes": sizes,
        "table": _suite_table(sel),
        "by_source": _group_counts(con, sel, "source"),
        "by_benchmark": _group_counts(con, sel, "benchmark"),
        "by_license": _group_counts(con, sel, "license"),
    }


def target_dir(manifest: Manifest, req: ReleaseRequest) -> Path:
    name = safe_name("release.name", manifest.release.name or manifest.name)
    return req.out / name / safe_name("release version", req.version)


def preflight(manifest: Manifest, req: ReleaseRequest) -> Path:
    """Every check that needs no data, before anything is written: names, version, target, publish settings."""
    if not VERSION_RE.match(req.version):
        raise ReleaseError(f"release version must look like X.Y.Z, got {req.version!r}")
    final = target_dir(manifest, req)
    for c in manifest.release.configs:
        safe_name("release config name", c.name)
    if final.exists() and not req.force:
        raise ReleaseError(f"release {final} already exists; bump --version or pass --force to replace it")
    if final.exists() and not (final / manifest_json.MANIFEST).is_file():
        raise ReleaseError(f"refusing to replace {final}: it is not a medcurate release (no manifest.json)")
    publish.PUBLISHERS.get(req.publish).check(manifest.release, req.dry_run)  # fail before any work, not after
    if manifest.release.validate_:
        validation.require()
    return final


def build_release(wh: Warehouse, manifest: Manifest, req: ReleaseRequest, run: RunRecorder) -> dict[str, Any]:
    """Build into a marked staging directory, then rename it into place (a dry run discards it instead).

    Selection rules, columns and emptiness are checked before the staging directory exists; a failed release leaves
    no staging, spill or empty `<out>/<name>/` directory behind.
    """
    final = preflight(manifest, req)
    created = paths.missing_dirs(final.parent)
    stage = final.parent / f".tmp-{req.version}-{uuid.uuid4().hex[:8]}"
    spill = final.parent / f".spill-{stage.name}"
    ok = False
    con = connect(wh)
    with disk_full_as("release", final):  # after the cleanup below, which frees what the release had written
        try:
            paths.sweep_stale(final.parent, req.out)  # safe: releases run under the warehouse lock
            paths.make_marked_dir(spill)
            con.execute(f"SET temp_directory = '{spill}'").fetchall()  # DuckDB spills the candidate tables here
            sels = _selections(con, manifest)
            paths.make_marked_dir(stage)
            facts = _build(con, manifest, req, run, sels, stage, final)
            operations = _operations(manifest, req, stage, final)
            if not req.dry_run:
                crash_point("release", "before")
                if final.exists():
                    paths.remove_tree(final, req.out)
                (stage / paths.MARKER).unlink()
                stage.rename(final)
            ok = not req.dry_run
        finally:
            con.close()
            for d in (stage, spill):
                if d.exists():
                    paths.remove_tree(d, req.out)
            if not ok:
                paths.remove_empty(created)
    result = {
        "path": str(final),
        "rows": facts["total_rows"],
        "publish": req.publish,
        "dry_run": req.dry_run,
        "operations": operations,
    }
    if req.dry_run:
        return result
    result.update(publish.PUBLISHERS.get(req.publish).publish(final, manifest.release, req.version))
    return result


def _operations(manifest: Manifest, req: ReleaseRequest, stage: Path, final: Path) -> list[str]:
    """What publishing does (or would do, in a dry run), listed from the built files."""
    publisher = publish.PUBLISHERS.get(req.publish)
    ops = publisher.operations(stage, final, manifest.release, req.version)
    if not req.dry_run:
        return ops if publisher.remote else []
    return [f"write {final}", *ops]


def _build(
    con: duckdb.DuckDBPyConnection,
    manifest: Manifest,
    req: ReleaseRequest,
    run: RunRecorder,
    sels: list[Selection],
    stage: Path,
    final: Path,
) -> dict[str, Any]:
    configs = {}
    with tracker(len(sels), "configs written") as bar:
        for sel in sels:
            with run.timed(f"write_{sel.config.name}"):
                splits, sizes = _write_config(con, sel, stage, manifest)
            configs[sel.config.name] = _config_facts(con, sel, splits, sizes)
            run.count(f"{sel.config.name}.rows", sel.rows_out)
            bar.advance(rows=sel.rows_out)
    results = {}
    if manifest.release.validate_:
        for sel in sels:
            try:
                results[sel.config.name] = _validate(con, sel, run.run_id, stage / "validation" / sel.config.name)
            except ReleaseError:
                kept = final.parent / f"{req.version}.rejected"
                if kept.exists():
                    paths.remove_tree(kept, req.out)
                if (stage / "validation").is_dir():  # all of it or nothing: a partial copy would mislead
                    undo = functools.partial(paths.remove_tree, kept, req.out)
                    with disk_full_as("rejected release report", kept, undo=undo):
                        shutil.copytree(stage / "validation", kept / "validation", dirs_exist_ok=True)
                raise
    licenses: dict[str, int] = {}
    for c in configs.values():
        for k, v in c["by_license"].items():
            licenses[k] = licenses.get(k, 0) + v
    facts: dict[str, Any] = {
        "name": final.parent.name,
        "version": req.version,
        "pretty_name": manifest.release.pretty_name or f"{final.parent.name} {req.version}",
        "description": manifest.release.description,
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
        "code_version": code_version(),
        "run_id": run.run_id,
        "manifest_sha256": manifest.sha256,
        "total_rows": sum(n for c in configs.values() for ss in c["splits"].values() for n in ss.values()),
        "configs": configs,
        "licenses": licenses or {"unknown": 0},
        "keys": {s.config.name: s.config.key for s in sels},
        "schema": {n: manifest_json.schema_of(next((stage / "data" / n).rglob("*.parquet"))) for n in configs},
        "features": {n: card.features_of(next((stage / "data" / n).rglob("*.parquet"))) for n in configs},
        "hf_repo": manifest.release.hf_repo,
        "citations": manifest.release.citations,
        "validation": results,
        "lineage": lineage.collect(con, sels),
        "plots": plots.render(con, sels, stage / "plots"),
        "limitations": manifest.release.limitations,
    }
    facts["diff"] = diff.diff(diff.find_previous(final.parent, req.version), stage, facts["keys"])
    (stage / "README.md").write_text(card.render(facts), encoding="utf-8")
    manifest_json.write(stage, facts)
    return facts
