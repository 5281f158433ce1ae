"""From edges to annotations: valid edges (near pairs from dedup_edges plus exact-hash groups), connected components,
the keep policy, and the annotation rows that changed since the last run."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from curation.dedup.components import components
from curation.dedup.config import DedupConfig
from curation.dedup.index import _q, prepare
from curation.dedup.keep import order_by
from curation.dedup.sign import EMPTY
from curation.warehouse import ShardWriter, Warehouse

_COMPARED = [
    "exact_hash",
    "dup_cluster_id",
    "cluster_size",
    "is_duplicate",
    "dup_of",
    "dup_kept_id",
    "max_similarity",
    "dup_reason",
    "dup_status",
    "dup_n_shingles",
]


def _edges_sql(params_id: str) -> str:
    """Edges between active documents whose current signatures are no newer than the edge (a revised document's
    old edges drop out), plus exact-hash groups linked to their smallest member. One row per pair, max similarity."""
    return f"""
        SELECT doc_a, doc_b, max(similarity) AS similarity FROM (
            SELECT e.doc_a, e.doc_b, e.similarity FROM dedup_edges e
            JOIN sig_cur a ON a.doc_id = e.doc_a JOIN sig_cur b ON b.doc_id = e.doc_b
            WHERE e.params_id = {_q(params_id)} AND e.run_id >= a.run_id AND e.run_id >= b.run_id
              AND e.doc_a IN (SELECT doc_id FROM active) AND e.doc_b IN (SELECT doc_id FROM active)
            UNION ALL
            SELECT doc_a, doc_id AS doc_b, 1.0 AS similarity FROM (
                SELECT s.doc_id, min(s.doc_id) OVER (PARTITION BY s.exact_hash) AS doc_a
                FROM sig_cur s JOIN active USING (doc_id) WHERE s.status <> '{EMPTY}')
            WHERE doc_a <> doc_id
        ) GROUP BY ALL"""


def build_components(con: duckdb.DuckDBPyConnection, params_id: str) -> dict[str, int]:
    """Create temp tables `edges_all`, `comp` (doc_id, cluster) and `maxsim` (doc_id, max_sim) in `con`."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE edges_all AS {_edges_sql(params_id)}")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE nodes AS SELECT doc_id, (row_number() OVER (ORDER BY doc_id) - 1) AS i "
        "FROM (SELECT doc_a AS doc_id FROM edges_all UNION SELECT doc_b FROM edges_all)"
    )
    pairs = con.sql(
        "SELECT na.i AS a, nb.i AS b FROM edges_all e JOIN nodes na ON na.doc_id = e.doc_a "
        "JOIN nodes nb ON nb.doc_id = e.doc_b"
    ).to_arrow_table()
    nodes = con.sql("SELECT doc_id FROM nodes ORDER BY i").to_arrow_table()
    ids = nodes.column("doc_id").combine_chunks() if nodes.num_rows else pa.array([], pa.string())
    labels = components(
        pairs.column("a").to_numpy().astype(np.int64), pairs.column("b").to_numpy().astype(np.int64), len(ids)
    )
    comp = pa.table({"doc_id": ids, "cluster": ids.take(pa.array(labels))})
    con.register("comp_arrow", comp)
    con.execute("CREATE OR REPLACE TEMP TABLE comp AS SELECT * FROM comp_arrow")
    con.unregister("comp_arrow")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE maxsim AS SELECT doc_id, max(similarity) AS max_sim FROM "
        "(SELECT doc_a AS doc_id, similarity FROM edges_all UNION ALL SELECT doc_b, similarity FROM edges_all) "
        "GROUP BY doc_id"
    )
    return {"edges_total": pairs.num_rows, "nodes_in_clusters": len(ids)}


def annotation_sql(cfg: DedupConfig, run_id: str) -> str:
    """Every document's annotation row, computed from `comp`, `maxsim`, `sig_cur` and documents_latest."""
    order = order_by(cfg.keep)
    return f"""
        WITH base AS (
            SELECT d.doc_id, d.is_current, d.commercial_use, length(coalesce(d.text, '')) AS text_len, d.published,
                   d.is_deleted, coalesce(s.exact_hash, '') AS exact_hash, s.status,
                   coalesce(s.n_shingles, 0) AS n_shingles,
                   CASE WHEN d.is_deleted THEN d.doc_id ELSE coalesce(c.cluster, d.doc_id) END AS cl,
                   CASE WHEN d.is_deleted THEN 0.0 ELSE coalesce(m.max_sim, 0.0) END AS ms
            FROM documents_latest d LEFT JOIN sig_cur s USING (doc_id) LEFT JOIN comp c USING (doc_id)
            LEFT JOIN maxsim m USING (doc_id)),
        ranked AS (
            SELECT *, count(*) OVER (PARTITION BY cl) AS size,
                   first_value(doc_id) OVER (PARTITION BY cl ORDER BY {order}) AS kept,
                   first_value(exact_hash) OVER (PARTITION BY cl ORDER BY {order}) AS kept_hash
            FROM base)
        SELECT doc_id, {_q(run_id)} AS run_id, exact_hash, cl AS dup_cluster_id, size AS cluster_size,
               doc_id <> kept AS is_duplicate, CASE WHEN doc_id <> kept THEN kept END AS dup_of,
               kept AS dup_kept_id, CAST(ms AS DOUBLE) AS max_similarity,
               CASE WHEN doc_id = kept THEN NULL WHEN exact_hash = kept_hash THEN 'exact' ELSE 'near' END AS dup_reason,
               CASE WHEN is_deleted THEN 'deleted' ELSE coalesce(status, 'unsigned') END AS dup_status,
               n_shingles AS dup_n_shingles
        FROM ranked"""


def write_annotations(wh: Warehouse, cfg: DedupConfig, params_id: str, run_id: str) -> dict[str, int]:
    """Recompute clusters and write the annotation rows that differ from the current ones (latest run wins)."""
    con = prepare(wh, params_id, cfg.memory_limit)
    stats = build_components(con, params_id)
    changed = " OR ".join(f"n.{c} IS DISTINCT FROM o.{c}" for c in _COMPARED)
    reader = con.sql(
        f"SELECT n.* FROM ({annotation_sql(cfg, run_id)}) n LEFT JOIN annotations_dedup o USING (doc_id) "
        f"WHERE o.doc_id IS NULL OR {changed} ORDER BY n.doc_id"
    ).to_arrow_reader(50_000)
    with ShardWriter(wh, "annotations_dedup", run_id) as w:
        for batch in reader:
            w.write_table(pa.Table.from_batches([batch]))
    totals = con.execute(
        f"SELECT count(*) FILTER (WHERE is_duplicate), count(DISTINCT dup_cluster_id) FILTER (WHERE cluster_size > 1) "
        f"FROM ({annotation_sql(cfg, run_id)})"
    ).fetchall()[0]
    con.close()
    return {**stats, "annotations_written": w.stats.rows, "duplicates": totals[0], "clusters": totals[1]}
