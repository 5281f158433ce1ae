"""The warehouse side of dedup: which documents need signing, the persistent band index, candidate pairs by a
DuckDB join on (band, hash) over Parquet, verification, and the edge table. Everything that grows with the corpus
stays in Parquet and DuckDB; Python only sees bounded record batches."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import numpy as np
import pyarrow as pa

from curation.dedup.candidates import Candidates, _q
from curation.dedup.config import DedupConfig
from curation.dedup.minhash import band_hashes
from curation.dedup.sign import EMPTY, join_fields, sign_texts
from curation.dedup.signer import Signer
from curation.dedup.text import normalize, shingles
from curation.warehouse import Quarantine, ShardWriter, Warehouse, connect

STAGE = "dedup"


def prepare(wh: Warehouse, params_id: str, memory_limit: str = "1GB") -> duckdb.DuckDBPyConnection:
    """A connection with the warehouse views plus `sig_cur` (the current signature row per document) and `active`.
    DuckDB's memory is capped and it spills to <warehouse>/.duckdb-spill, so the joins stay out-of-core."""
    con = connect(wh)
    spill = wh.root / ".duckdb-spill"
    spill.mkdir(exist_ok=True)
    con.execute(f"SET memory_limit = {_q(memory_limit)}")
    con.execute(f"SET temp_directory = {_q(str(spill))}")
    con.execute(
        "CREATE TEMP VIEW sig_cur AS SELECT * EXCLUDE (_rn) FROM (SELECT *, row_number() OVER "
        f"(PARTITION BY doc_id ORDER BY run_id DESC) AS _rn FROM dedup_signatures WHERE params_id = {_q(params_id)}) "
        "WHERE _rn = 1"
    )
    con.execute("CREATE TEMP VIEW active AS SELECT doc_id FROM documents_latest WHERE NOT is_deleted")
    return con


def _input_md5(cfg: DedupConfig, alias: str = "d") -> str:
    return "md5(concat_ws(chr(0), " + ", ".join(f"coalesce({alias}.\"{f}\", '')" for f in cfg.fields) + "))"


def pending(con: duckdb.DuckDBPyConnection, cfg: DedupConfig, batch_size: int) -> Iterator[pa.RecordBatch]:
    """Documents (not deleted) without a current signature, or whose dedup fields changed since, in storage order.
    `documents_latest` is a window view: reading the texts through it made DuckDB hold them all (the main process
    grew with the corpus while the signing workers ran). So only the keys of the latest occurrences go through the
    view, and the texts stream from `documents` joined on them; no ORDER BY either."""
    yield from con.sql(_pending_sql(cfg)).to_arrow_reader(batch_size)


def count_pending(con: duckdb.DuckDBPyConnection, cfg: DedupConfig) -> int:
    """How many documents `pending` yields (the total of the signing progress line)."""
    return int(con.sql(f"SELECT count(*) FROM ({_pending_sql(cfg)})").fetchall()[0][0])


def _pending_sql(cfg: DedupConfig) -> str:
    fields = ", ".join(f'd."{f}"' for f in cfg.fields)
    md5 = _input_md5(cfg)
    return (
        "WITH k AS (SELECT doc_id, source_file, record_index, run_id FROM documents_latest WHERE NOT is_deleted) "
        f"SELECT d.doc_id, {md5} AS input_md5, {fields} FROM documents d "
        "JOIN k ON k.doc_id = d.doc_id AND k.source_file = d.source_file AND k.record_index = d.record_index "
        "AND k.run_id = d.run_id LEFT JOIN sig_cur s ON s.doc_id = d.doc_id "
        f"WHERE s.doc_id IS NULL OR s.input_md5 <> {md5}"
    )


def batch_texts(batch: pa.RecordBatch, cfg: DedupConfig, prefix: str = "") -> list[str]:
    """The dedup text of every row: the configured fields (columns `prefix + field`) joined."""
    cols = [batch.column(prefix + f).to_pylist() for f in cfg.fields]
    return [join_fields(list(v)) for v in zip(*cols, strict=True)]


def sign_shard(
    wh: Warehouse,
    batch: pa.RecordBatch,
    cfg: DedupConfig,
    params_id: str,
    run_id: str,
    unit: str,
    signer: Signer | None = None,
) -> dict[str, int]:
    """Sign one batch (in `signer`'s worker processes when given) and publish its signatures and band rows as unit
    `unit` (atomic; a rerun replaces it)."""
    texts = batch_texts(batch, cfg)
    signed = signer.sign(texts) if signer is not None else sign_texts(texts, cfg)
    doc_ids = batch.column("doc_id")
    n = len(texts)
    sig_list = [None] * n
    has_sig = np.flatnonzero(signed.sig_row >= 0)
    sigs64 = signed.sigs.astype(np.int64)
    for i in has_sig:
        sig_list[i] = sigs64[signed.sig_row[i]]
    table = pa.table(
        {
            "doc_id": doc_ids,
            "params_id": pa.array([params_id] * n),
            "input_md5": batch.column("input_md5"),
            "exact_hash": pa.array(signed.exact_hash),
            "status": pa.array(signed.status),
            "n_shingles": pa.array(signed.n_shingles),
            "signature": pa.array(sig_list, pa.list_(pa.int64())),
            "run_id": pa.array([run_id] * n),
        }
    )
    bands, rows = cfg.band_params()
    bh = band_hashes(signed.sigs, bands, rows)
    m = len(has_sig) * bands  # has_sig is in signature-row order
    band_table = pa.table(
        {
            "doc_id": doc_ids.take(pa.array(np.repeat(has_sig, bands))),
            "params_id": pa.array([params_id] * m),
            "band": pa.array(np.tile(np.arange(bands, dtype=np.int32), len(has_sig))),
            "hash": pa.array(bh.ravel()),
            "run_id": pa.array([run_id] * m),
        }
    )
    with ShardWriter(wh, "dedup_signatures", unit) as w, Quarantine(wh, STAGE, run_id, unit=unit) as q:
        w.write_table(table)
        for i, status in enumerate(signed.status):
            if status == EMPTY:
                q.add("empty_text", doc_ids[i].as_py(), None, f"no text in fields {cfg.fields} after normalization")
    with ShardWriter(wh, "dedup_bands", unit) as w:
        w.write_table(band_table)
    counts: dict[str, int] = {"signed": n}
    for s in signed.status:
        counts[f"status_{s}"] = counts.get(f"status_{s}", 0) + 1
    return counts


def _exact_jaccard(texts_a: list[str], texts_b: list[str], cfg: DedupConfig) -> np.ndarray:
    out = np.zeros(len(texts_a))
    for i, (ta, tb) in enumerate(zip(texts_a, texts_b, strict=True)):
        out[i] = jaccard(ta, tb, cfg)
    return out


def jaccard(text_a: str, text_b: str, cfg: DedupConfig) -> float:
    """Exact Jaccard of the two texts' shingle sets (same normalization and bounds as the signatures)."""
    sa = set(shingles(normalize(text_a[: cfg.shingle.max_chars], cfg.normalize), cfg.shingle))
    sb = set(shingles(normalize(text_b[: cfg.shingle.max_chars], cfg.normalize), cfg.shingle))
    return len(sa & sb) / len(sa | sb) if sa or sb else 0.0


def find_edges(wh: Warehouse, cfg: DedupConfig, params_id: str, run_id: str) -> dict[str, int]:
    """Candidates (band by band, huge buckets capped: curation/dedup/candidates.py) → verification → edges unit
    `run_id` in dedup_edges. Returns candidate, edge and cap counts."""
    con = prepare(wh, params_id, cfg.memory_limit)
    cands = Candidates(con, wh.root / ".duckdb-spill", params_id, run_id)
    n_cand = n_edges = 0
    try:
        cands.generate(cfg)
        with ShardWriter(wh, "dedup_edges", run_id) as w:
            for batch in cands.batches(cfg):
                n_cand += batch.num_rows
                est = batch.column("estimated").to_numpy()
                if cfg.verify == "exact":
                    sim = _exact_jaccard(batch_texts(batch, cfg, "a_"), batch_texts(batch, cfg, "b_"), cfg)
                else:
                    sim = est
                keep = np.ones(len(sim), bool) if cfg.verify == "none" else sim >= cfg.threshold
                idx = pa.array(np.flatnonzero(keep))
                k = len(idx)
                n_edges += k
                w.write_table(
                    pa.table(
                        {
                            "doc_a": batch.column("doc_a").take(idx),
                            "doc_b": batch.column("doc_b").take(idx),
                            "params_id": pa.array([params_id] * k),
                            "similarity": pa.array(sim[keep]),
                            "estimated": pa.array(est[keep]),
                            "run_id": pa.array([run_id] * k),
                        }
                    )
                )
    finally:
        cands.close()
        con.close()
    return {"candidates": n_cand, "edges_new": n_edges, **cands.counts}
