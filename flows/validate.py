"""Validate flow: run every table's expectation suite and row rules, write JSON + Data Docs under
<warehouse>/validation/<run_id>/, quarantine failing rows, summarize in the run record, and fail the stage when a
dataset-level expectation fails (after everything is written, so the report is there to read)."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from curation.errors import ValidationFailed
from curation.validate.config import ValidateConfig
from curation.warehouse import Quarantine, Warehouse, refresh_catalog, start_run
from flows.common import publish_run_artifact

STAGE = "validate"


def tables_to_validate(cfg: ValidateConfig, only: list[str] | None = None) -> list[str]:
    from curation.validate.suites import all_suites

    suites = all_suites()
    wanted = only or cfg.tables or sorted(suites)
    unknown = [t for t in wanted if t not in suites]
    if unknown:
        raise KeyError(f"no expectation suite for {unknown}; suites exist for {sorted(suites)}")
    return wanted


@task(name="validate-table", cache_policy=NO_CACHE)
def validate_table_task(warehouse: str, table: str, run_id: str, cfg: ValidateConfig) -> dict[str, Any]:
    from curation.validate.runner import validate_table

    wh = Warehouse(warehouse)
    q = Quarantine(wh, STAGE, run_id, unit=f"{STAGE}-{run_id}-{table}") if cfg.quarantine_rows else None
    report = validate_table(
        wh,
        table,
        run_id=run_id,
        batch_rows=cfg.batch_rows,
        data_docs=cfg.data_docs,
        max_failing_rows=cfg.max_failing_rows,
        quarantine=q,
    )
    if q is not None:
        q.commit()
    return {
        "summary": report.summary(),
        "explain": report.explain(),
        "quarantined": dict(q.reasons) if q is not None else {},
    }


def run_validate(
    warehouse: str, cfg: ValidateConfig, tables: list[str] | None = None, params: dict[str, Any] | None = None
) -> dict[str, Any]:
    logger = get_run_logger()
    wh = Warehouse(warehouse).ensure()
    failures: list[str] = []
    with start_run(wh, STAGE, params) as run:
        results = {}
        for table in tables_to_validate(cfg, tables):
            with run.timed(table):
                res = validate_table_task(str(wh.root), table, run.run_id, cfg)
            s = res["summary"]
            results[table] = s
            logger.info(res["explain"])
            run.quarantined(res["quarantined"])
            if s["skipped"]:
                run.count("tables_skipped")
                continue
            run.count("tables_validated")
            run.count("rows_validated", s["rows"])
            run.count("failing_rows", s["failing_rows"])
            if not s["success"]:
                run.count("tables_failed")
                failures.append(res["explain"])
        run.set("extra", "validation", results)
        run.set("extra", "report_dir", str(wh.root / "validation" / run.run_id))
        if failures and cfg.fail_on_error:
            raise ValidationFailed("dataset-level expectations failed:\n" + "\n".join(failures))
    refresh_catalog(wh)
    publish_run_artifact(run.snapshot())
    return {
        "run_id": run.run_id,
        "tables": len(results),
        "failed": [t for t, s in results.items() if not s["success"]],
        "skipped": [t for t, s in results.items() if s["skipped"]],
        "failing_rows": sum(s["failing_rows"] for s in results.values()),
        "report_dir": str(wh.root / "validation" / run.run_id),
    }


@flow(name="validate", log_prints=True)
def validate_flow(manifest_path: str, warehouse: str, tables: list[str] | None = None) -> dict[str, Any]:
    from curation.manifest import load_manifest

    manifest = load_manifest(manifest_path)
    cfg = manifest.validate_
    params = {
        "manifest": manifest_path,
        "manifest_sha256": manifest.sha256,
        "validate": cfg.model_dump(),
        "tables": tables,
    }
    return run_validate(warehouse, cfg, tables, params)
