"""The validate stage: every table's expectation suite and row rules, JSON + Data Docs under
<warehouse>/validation/<run_id>/, failing rows quarantined; the stage fails when a dataset-level expectation fails
(after everything is written, so the report is there to read)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from curation.config_base import StrictModel
from curation.errors import UserError, ValidationFailed
from curation.stages import STAGES, Stage, StageContext
from curation.validate.config import ValidateConfig
from curation.warehouse import Quarantine, Warehouse
from curation.warehouse.quarantine import quarantine_unit


class ValidateParams(StrictModel):
    table: list[str] = Field(default_factory=list, description="validate only these tables (repeatable)")


def tables_to_validate(cfg: ValidateConfig, only: list[str] | None = None) -> list[str]:
    from curation.validate.suites import all_suites
    from curation.warehouse.schemas import declared_tables

    suites = {**dict.fromkeys(declared_tables()), **all_suites()}  # declared tables get their schema's suite
    wanted = only or cfg.tables or sorted(suites)
    unknown = [t for t in wanted if t not in suites]
    if unknown:
        raise UserError(f"no expectation suite for {unknown}; suites exist for {sorted(suites)}")
    return wanted


def validate_one(wh: Warehouse, table: str, run_id: str, cfg: ValidateConfig) -> dict[str, Any]:
    from curation.validate.runner import validate_table

    with Quarantine(wh, "validate", run_id, unit=quarantine_unit("validate", run_id, part=table)) as q:
        # a failed validation (a full disk) aborts the staged quarantine unit instead of leaving it staged
        report = validate_table(
            wh,
            table,
            run_id=run_id,
            batch_rows=cfg.batch_rows,
            data_docs=cfg.data_docs,
            max_failing_rows=cfg.max_failing_rows,
            quarantine=q if cfg.quarantine_rows else None,
        )
        if not cfg.quarantine_rows:
            q.abort()
    return {"summary": report.summary(), "explain": report.explain(), "quarantined": dict(q.reasons)}


def run(ctx: StageContext) -> dict[str, Any]:
    cfg: ValidateConfig = ctx.config
    run, wh = ctx.run, ctx.warehouse
    failures: list[str] = []
    results = {}
    tables = tables_to_validate(cfg, ctx.params.table or None)
    bar = ctx.tracker(len(tables), "tables")
    for table in tables:
        with run.timed(table):
            res = ctx.submit(validate_one, wh, table, run.run_id, cfg, name=f"validate:{table}").result()
        s = res["summary"]
        bar.advance(rows=s["rows"])
        results[table] = s
        ctx.log.info(res["explain"])
        run.quarantined(res["quarantined"])
        if s["skipped"]:
            run.count("validate.tables_skipped")
            continue
        run.count("validate.tables_validated")
        run.count("validate.rows_validated", s["rows"])
        run.count("validate.failing_rows", s["failing_rows"])
        if not s["success"]:
            run.count("validate.tables_failed")
            failures.append(res["explain"])
    bar.close()
    report_dir = str(wh.root / "validation" / run.run_id)
    run.set("extra", "validation", results)
    run.set("extra", "report_dir", report_dir)
    if failures and cfg.fail_on_error:
        raise ValidationFailed("dataset-level expectations failed:\n" + "\n".join(failures))
    return {
        "tables": len(results),
        "failed": [t for t, s in results.items() if not s["success"]],
        "skipped": [t for t, s in results.items() if s["skipped"]],
        "failing_rows": sum(s["failing_rows"] for s in results.values()),
        "report_dir": report_dir,
    }


def _summary(s: dict[str, Any]) -> str:
    return (
        f"{s['tables']} tables, failed {s['failed'] or 'none'}, skipped {len(s['skipped'])}, "
        f"{s['failing_rows']} failing rows quarantined; reports in {s['report_dir']}"
    )


def _report(s: dict[str, Any]) -> Any:
    """Per table: expectations passed and failed, failing rows; then where the Data Docs site is."""
    from rich.console import Group

    from curation.validate.summary import run_reports, site_index, summary_table

    report_dir = Path(s["report_dir"])
    return Group(summary_table(run_reports(report_dir)), f"Data Docs: {site_index(report_dir.parents[1])}")


STAGES.register(
    Stage(
        name="validate",
        order=60,
        run=run,
        config=ValidateConfig,
        params=ValidateParams,
        description="Great Expectations suites and row rules over every table, with Data Docs",
        writes=(),
        threads=lambda cfg: 1,
        summary=_summary,
        report=_report,
    )
)
