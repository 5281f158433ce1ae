"""The records stage: sample each declared record table (seeded), check every row against its schema, write the
good rows to records_<name> (whose table schema is generated from the record schema and kept in the warehouse) and
quarantine the others with the column or rule they break."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from curation.records.config import RecordsConfig, RecordsTable
from curation.records.schema import RecordSchema
from curation.records.store import save_record_schema
from curation.records.validate import check_rows
from curation.stages import STAGES, NoParams, Stage, StageContext
from curation.warehouse import Quarantine
from curation.warehouse.quarantine import quarantine_unit
from curation.warehouse.schemas import register_schema
from curation.warehouse.shards import ShardWriter

STAGE = "records"
UNIT = "sample"  # one sample per table: a new run replaces it


def _settings_hash(schema: RecordSchema, t: RecordsTable) -> str:
    settings = {"schema": schema.model_dump(mode="json"), **t.model_dump(mode="json", exclude={"record_schema"})}
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def sample_table(ctx: StageContext, schema: RecordSchema, t: RecordsTable) -> dict[str, int]:
    wh, run_id = ctx.warehouse, ctx.run.run_id
    save_record_schema(wh, schema)
    settings = _settings_hash(schema, t)
    checked = check_rows(schema, t.sample(schema, t.n, t.seed))
    with Quarantine(wh, STAGE, run_id, unit=quarantine_unit(STAGE, run_id, schema.name)) as q:
        for i, problems in sorted(checked.problems.items()):
            q.add(problems[0].reason, f"{schema.table}#{i}", None, "; ".join(p.detail for p in problems))
        ctx.run.quarantined(dict(q.reasons))
    with ShardWriter(wh, schema.table, UNIT) as w:
        for i, row in zip(checked.index, checked.rows, strict=True):
            record_id = hashlib.sha256(f"{settings}:{i}".encode()).hexdigest()[:20]
            w.write({"record_id": record_id, **row, "run_id": run_id})
    ctx.run.add_output(schema.table, UNIT, len(checked.rows))
    return {"rows": len(checked.rows), "quarantined": len(checked.problems)}


def check(manifest: Any, params: Any) -> None:
    if manifest is None:  # the stage's defaults: no record tables to sample
        return
    from curation.manifest import ManifestError

    try:
        schemas = manifest.section(STAGE).check_files(manifest.base_dir)
    except ValueError as e:
        raise ManifestError(f"{manifest.path}: records.{e}") from None
    for schema in schemas:  # so that later stages' checks (synth's input SQL) see records_<name>
        register_schema(schema.table_schema())


def run(ctx: StageContext) -> dict[str, Any]:
    cfg: RecordsConfig = ctx.config
    base = ctx.manifest.base_dir if ctx.manifest is not None else ctx.resolve(".")
    out: dict[str, Any] = {"tables": 0, "rows": 0, "quarantined": 0}
    for t in cfg.tables:
        schema = t.resolve(base)
        counts = sample_table(ctx, schema, t)
        ctx.run.count(f"{schema.table}.rows", counts["rows"])
        out["tables"] += 1
        out["rows"] += counts["rows"]
        out["quarantined"] += counts["quarantined"]
    return out


STAGES.register(
    Stage(
        name=STAGE,
        order=45,  # before synth, which writes notes for records
        run=run,
        config=RecordsConfig,
        params=NoParams,
        description="sample structured patient records from a declared Bayesian network, checked against their schema",
        check=check,
        check_manifest=lambda manifest: check(manifest, None),
        commands="curation.records.cli:register",
        summary=lambda s: f"{s['tables']} record tables, {s['rows']} rows, {s['quarantined']} quarantined",
    )
)
