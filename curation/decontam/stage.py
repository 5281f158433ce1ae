"""The decontam stage: build the evaluation-item index from benchmark_items, flag current documents
(annotations_decontam) and passages / synthetic records (synthetic_decontam)."""

from __future__ import annotations

from typing import Any

from curation.batches import rechunk
from curation.decontam.annotate import DecontamStats, annotate_documents, annotate_table
from curation.decontam.config import DecontamConfig
from curation.decontam.index import EvalIndex
from curation.progress import track
from curation.stages import STAGES, Stage, StageContext
from curation.warehouse import Warehouse, connect


def _existing_tables(con: Any, names: list[str]) -> list[str]:
    have = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views()").fetchall()}
    return [n for n in names if n in have]


def decontam_documents(wh: Warehouse, cfg: DecontamConfig, index: EvalIndex, run_id: str) -> dict[str, Any]:
    con = connect(wh)
    stats = DecontamStats()
    total = con.sql("SELECT count(*) FROM documents_current").fetchall()[0][0]
    rel = con.sql("SELECT doc_id, pmid, title, text FROM documents_current ORDER BY doc_id")
    batches = track(rechunk(rel.to_arrow_reader(cfg.batch_rows), cfg.batch_rows), total, "documents", size=len)
    units = list(annotate_documents(wh, batches, index, run_id, stats))
    return {"units": units, **stats.as_dict()}


def run(ctx: StageContext) -> dict[str, Any]:
    wh, cfg, run = ctx.warehouse, ctx.config, ctx.run
    con = connect(wh)
    with run.timed("index"):
        index = EvalIndex.from_warehouse(con, cfg)
    run.set("extra", "index", {**index.stats(), "fingerprint": index.fingerprint()})
    if index.n_items == 0:
        ctx.log.warning(
            "no evaluation items in benchmark_items (eval splits %s): documents are annotated as clean; ingest the "
            "benchmark test splits to decontaminate",
            cfg.eval_splits,
        )
        run.set("extra", "note", "no evaluation items: every row annotated clean")
    with run.timed("documents"):
        docs = ctx.submit(decontam_documents, wh, cfg, index, run.run_id, name="decontam:documents").result()
    for unit, rows in docs.pop("units"):
        run.add_output("annotations_decontam", unit, rows)
    run.count("documents.checked", docs["rows"])
    run.count("documents.contaminated", docs["contaminated"])
    for rule, n in docs["by_rule"].items():
        run.count(f"documents.contaminated_{rule}", n)
    run.set("extra", "documents", docs)
    records = {}
    for table in _existing_tables(con, cfg.synthetic_tables):
        with run.timed(f"records:{table}"):
            res = ctx.submit(
                annotate_table, wh, table, index, run.run_id, cfg.batch_rows, name=f"decontam:{table}"
            ).result()
        records[table] = res
        run.count(f"{table}.checked", res["rows"])
        run.count(f"{table}.contaminated", res["contaminated"])
    run.set("extra", "records", records)
    ctx.log.info(
        "decontam: %d/%d documents contaminated (%s), %.0f docs/s",
        docs["contaminated"],
        docs["rows"],
        docs["by_rule"],
        docs["rows_per_s"] or 0,
    )
    return {
        "documents": docs["rows"],
        "contaminated": docs["contaminated"],
        "docs_per_s": docs["rows_per_s"],
        "index_items": index.n_items,
        "records": {t: r["contaminated"] for t, r in records.items()},
        "records_checked": {t: r["rows"] for t, r in records.items()},
    }


def _summary(s: dict[str, Any]) -> str:
    checked = s.get("records_checked", {})
    recs = "".join(  # tables with no rows yet (synth runs after decontam in a build) say nothing
        f"; {t}: {n}/{checked[t]} contaminated" for t, n in s["records"].items() if checked.get(t)
    )
    return (
        f"{s['contaminated']}/{s['documents']} documents contaminated ({s['index_items']} eval items indexed, "
        f"{s['docs_per_s']} docs/s){recs}"
    )


STAGES.register(
    Stage(
        name="decontam",
        order=40,
        run=run,
        config=DecontamConfig,
        description="flag documents and synthetic records that contain benchmark evaluation items",
        reads=("documents_current", "benchmark_items"),
        # synthetic_decontam is synth's too (it checks what it generates): not listed, or synth's writes would make
        # this stage rerun on every build
        writes=("annotations_decontam",),
        threads=lambda cfg: 1,
        summary=_summary,
    )
)
