"""Decontam flow: build the evaluation-item index from benchmark_items, flag current documents
(annotations_decontam) and passages / synthetic records (synthetic_decontam), one run record."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from curation.batches import rechunk
from curation.decontam.annotate import DecontamStats, annotate_documents, annotate_table
from curation.decontam.config import DecontamConfig
from curation.decontam.index import EvalIndex
from curation.warehouse import Warehouse, connect, refresh_catalog, start_run
from flows.common import publish_run_artifact

STAGE = "decontam"


def _existing_tables(con, names: list[str]) -> list[str]:
    have = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views()").fetchall()}
    return [n for n in names if n in have]


@task(name="decontam-documents", cache_policy=NO_CACHE)  # the index is large and per-run
def decontam_documents_task(warehouse: str, cfg: DecontamConfig, index: EvalIndex, run_id: str) -> dict[str, Any]:
    wh = Warehouse(warehouse)
    con = connect(wh)
    stats = DecontamStats()
    rel = con.sql("SELECT doc_id, pmid, title, text FROM documents_current ORDER BY doc_id")
    batches = rechunk(rel.to_arrow_reader(cfg.batch_rows), cfg.batch_rows)
    units = list(annotate_documents(wh, batches, index, run_id, stats))
    return {"units": units, **stats.as_dict()}


@task(name="decontam-records", cache_policy=NO_CACHE)
def decontam_records_task(
    warehouse: str, cfg: DecontamConfig, index: EvalIndex, run_id: str, table: str
) -> dict[str, Any]:
    return annotate_table(Warehouse(warehouse), table, index, run_id, cfg.batch_rows)


def run_decontam(warehouse: str, cfg: DecontamConfig, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Index, annotate, record. Must run inside a flow."""
    logger = get_run_logger()
    wh = Warehouse(warehouse).ensure()
    with start_run(wh, STAGE, params) as run:
        con = connect(wh)
        with run.timed("index"):
            index = EvalIndex.from_warehouse(con, cfg)
        run.set("extra", "index", {**index.stats(), "fingerprint": index.fingerprint()})
        if index.n_items == 0:
            logger.warning(
                "no evaluation items in benchmark_items (eval splits %s): documents are annotated as "
                "clean; ingest the benchmark test splits to decontaminate",
                cfg.eval_splits,
            )
            run.set("extra", "note", "no evaluation items: every row annotated clean")
        with run.timed("documents"):
            docs = decontam_documents_task(str(wh.root), cfg, index, run.run_id)
        for unit, rows in docs.pop("units"):
            run.add_output("annotations_decontam", unit, rows)
        run.count("documents", docs["rows"])
        run.count("documents_contaminated", docs["contaminated"])
        for rule, n in docs["by_rule"].items():
            run.count(f"documents_contaminated_{rule}", n)
        run.set("extra", "documents", docs)
        records = {}
        for table in _existing_tables(con, cfg.synthetic_tables):
            with run.timed(f"records:{table}"):
                res = decontam_records_task(str(wh.root), cfg, index, run.run_id, table)
            records[table] = res
            run.count(f"{table}_checked", res["rows"])
            run.count(f"{table}_contaminated", res["contaminated"])
        run.set("extra", "records", records)
        logger.info(
            "decontam: %d/%d documents contaminated (%s), %.0f docs/s",
            docs["contaminated"],
            docs["rows"],
            docs["by_rule"],
            docs["rows_per_s"] or 0,
        )
    refresh_catalog(wh)
    publish_run_artifact(run.snapshot())
    return {
        "run_id": run.run_id,
        "documents": docs["rows"],
        "contaminated": docs["contaminated"],
        "docs_per_s": docs["rows_per_s"],
        "index_items": index.n_items,
        "records": {t: r["contaminated"] for t, r in records.items()},
    }


@flow(name="decontam", log_prints=True)
def decontam_flow(manifest_path: str, warehouse: str) -> dict[str, Any]:
    from curation.manifest import load_manifest

    manifest = load_manifest(manifest_path)
    params = {"manifest": manifest_path, "manifest_sha256": manifest.sha256, "decontam": manifest.decontam.model_dump()}
    return run_decontam(warehouse, manifest.decontam, params)
