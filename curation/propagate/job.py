"""One propagation job: the student trained on the teacher's labels (or reused: a student is saved per label set,
heads and training settings, so a rerun never retrains), then every unit labelled by it into propagated_<name>.

The student is the score stage's encoder with the job's declared heads (curation/propagate/student.py). Units already
labelled by the same student are skipped, so a rerun writes nothing and a crashed run resumes; a unit is committed
atomically per `batch_rows` units."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import Any

from curation.progress import tracker
from curation.propagate.config import PropagateJob
from curation.propagate.labels import Labels, read_labels
from curation.propagate.student import StudentScorer, train_student
from curation.quality.perplexity import resolve_model_dir
from curation.quality.pipeline import under_warehouse
from curation.quality.scoring import nonfinite_columns
from curation.warehouse import Quarantine, ShardWriter, Warehouse, connect
from curation.warehouse.quarantine import Rejection, quarantine_unit
from curation.warehouse.runs import RunRecorder

STAGE = "propagate"


def student(wh: Warehouse, job: PropagateJob, labels: Labels, run: RunRecorder) -> Path:
    """The student's directory for these labels: trained now, or by an earlier run on the same labels."""
    fp = labels.fingerprint(job)
    out = under_warehouse(wh, job.train.output_dir) / job.name / fp[:16]
    if (out / "LATEST").is_file():
        return out
    data = {"job": job.name, "labels_sql_sha256": hashlib.sha256(job.labels.encode()).hexdigest(), "fingerprint": fp}
    with run.timed(f"{job.name}.train"):
        dest = train_student(labels.examples, job.heads, job.train, out, data, rubric_version=f"propagate:{job.name}")
    run.set("models", f"{job.name}.trained", str(dest))
    return out


def _pending(job: PropagateJob, version: str, force: bool) -> tuple[str, list[str]]:
    """The units to label (SQL, parameters): those without a row from this student version, unless forced."""
    carried = (f'"{c}"' for c in job.carry if c != "text")  # text may be carried too: it is selected once
    cols = ", ".join(["CAST(unit_id AS VARCHAR) AS unit_id", "text", *carried])
    sql = f"SELECT {cols} FROM ({job.units}) AS u WHERE unit_id IS NOT NULL"
    if force:
        return sql, []
    skip = f"SELECT 1 FROM {job.table} p WHERE p.unit_id = CAST(u.unit_id AS VARCHAR) AND p.model = ?"
    return f"{sql} AND NOT EXISTS ({skip})", [version]


def label_units(
    wh: Warehouse, job: PropagateJob, scorer: StudentScorer, run: RunRecorder, force: bool
) -> dict[str, int]:
    """Label every unit that has no row from this student yet (all of them with `force`)."""
    sql, params = _pending(job, scorer.version, force)
    con = connect(wh)
    totals = {"labelled": 0, "quarantined": 0}
    try:
        pending = int(con.execute(f"SELECT count(*) FROM ({sql})", params).fetchall()[0][0])
        reader = con.sql(f"{sql} ORDER BY 1", params=params).to_arrow_reader(job.batch_rows)
        with run.timed(f"{job.name}.label"), tracker(pending, f"{job.name} units") as bar:
            for k, batch in enumerate(reader):
                rows = batch.to_pylist()
                n, q = _write_batch(wh, job, scorer, run, rows, f"{run.run_id}-{k:05d}")
                totals["labelled"] += n
                totals["quarantined"] += q
                bar.advance(len(rows), rows=n)
    finally:
        con.close()
    return totals


def _write_batch(
    wh: Warehouse, job: PropagateJob, scorer: StudentScorer, run: RunRecorder, rows: list[dict[str, Any]], unit: str
) -> tuple[int, int]:
    results = scorer.score([r["text"] or "" for r in rows])
    with (
        ShardWriter(wh, job.table, unit) as writer,
        Quarantine(wh, STAGE, run.run_id, unit=quarantine_unit(STAGE, run.run_id, job.name, unit[-5:])) as q,
    ):
        for row, result in zip(rows, results, strict=True):
            if isinstance(result, dict) and (bad := nonfinite_columns(result)):
                result = Rejection("nonfinite_score", detail=f"non-finite {bad}: {result}")
            if isinstance(result, Rejection):
                q.add(result.reason, row["unit_id"], row["text"], f"{job.name}: {result.detail}")
                continue
            carried = {c: row[c] for c in job.carry}
            writer.write(
                {"unit_id": row["unit_id"], **carried, "model": scorer.version, **result, "run_id": run.run_id}
            )
    run.add_output(job.table, unit, writer.stats.rows)
    run.quarantined(q.reasons)
    return writer.stats.rows, q.n


def run_job(wh: Warehouse, job: PropagateJob, run: RunRecorder, force: bool = False) -> dict[str, Any]:
    """Labels -> student -> every unit labelled. Too few usable labels: skipped, the reason in the run record."""
    con = connect(wh)
    try:
        labels = read_labels(con, job)
    finally:
        con.close()
    if labels.rejected:
        with Quarantine(wh, STAGE, run.run_id, unit=quarantine_unit(STAGE, run.run_id, job.name, "labels")) as q:
            for r in labels.rejected:
                q.reject(r)
        run.quarantined(q.reasons)
    summary: dict[str, Any] = {"labels": len(labels.examples), "labels_rejected": len(labels.rejected)}
    run.count(f"{job.name}.labels", len(labels.examples))
    if len(labels.examples) < job.min_labels:
        reasons = dict(Counter(r.reason for r in labels.rejected))
        why = (
            f"{len(labels.examples)} usable teacher labels (rejected: {reasons or 'none'}); "
            f"need at least min_labels={job.min_labels} to train and hold out"
        )
        run.error(f"propagate {job.name} skipped: {why}")
        run.count(f"{job.name}.skipped")
        return {**summary, "skipped": why, "labelled": 0, "quarantined": 0}
    model_dir = student(wh, job, labels, run)
    scorer = StudentScorer(Path(resolve_model_dir(str(model_dir))), job.batch_size, job.precision)
    metrics = scorer.info["metrics"]
    run.set("models", job.name, scorer.version)
    totals = label_units(wh, job, scorer, run, force)
    run.count(f"{job.name}.labelled", totals["labelled"])
    run.count(f"{job.name}.quarantined", totals["quarantined"])
    return {**summary, "model": scorer.version, "metrics": metrics, **totals}
