"""Candidate pairs from the band index, out-of-core and band by band, with a cap on huge buckets.

One `SELECT DISTINCT … JOIN … ORDER BY` over all bands held every raw pair (a bucket of s documents gives s²/2 of
them in each band it recurs in) and sorted them with both signatures attached; boilerplate text shared by thousands
of documents made that exceed DuckDB's memory limit. Here every intermediate lives in a scratch DuckDB file under the
spill directory (its buffer manager evicts to disk), each band is joined on its own, and a bucket over
`cfg.max_bucket` members is not paired all-to-all:

**Bucket cap.** The members of a huge bucket are ordered by SORT_KEYS single signature values (positions outside
the band's own rows, each with doc_id as tie-break), and each member is paired with its NEIGHBOURS next members in
every order. Two documents at Jaccard J agree on one signature value with probability J, and a value they share
that few other members have puts them next to each other, so a true near-duplicate pair is still found with
probability about 1 − (1 − J)^SORT_KEYS (≥ 0.99 at J = 0.3 for values outside the recurring text); exact copies
(identical signatures) sort together and are chained. Members unrelated except for the recurring text agree on
few values and meet only as sorted neighbours: SORT_KEYS × NEIGHBOURS pairs each, instead of the whole bucket.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa

from curation.dedup.config import DedupConfig

SORT_KEYS = 16
NEIGHBOURS = 2
PAIRS_PER_PARTITION = 4_000_000  # raw pairs per DISTINCT + verification partition


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


class Candidates:
    """Scratch state of one candidate search: attach, `generate()`, then `batches()`; `close()` removes it."""

    def __init__(self, con: duckdb.DuckDBPyConnection, spill: Path, params_id: str, run_id: str) -> None:
        self.con, self.params_id, self.run_id = con, params_id, run_id
        self.dir = spill / f"dedup-candidates-{run_id}"
        shutil.rmtree(self.dir, ignore_errors=True)  # left by a crashed run
        self.dir.mkdir(parents=True)
        con.execute(f"ATTACH {_q(str(self.dir / 'scratch.duckdb'))} AS scratch")
        self.counts = {"buckets_capped": 0, "capped_bucket_members": 0, "raw_pairs": 0}

    def close(self) -> None:
        self.con.execute("DETACH scratch")
        shutil.rmtree(self.dir, ignore_errors=True)

    def generate(self, cfg: DedupConfig) -> None:
        """Raw pairs (doc_a < doc_b, repeats allowed) into scratch.cand: every pair that shares a bucket with at least
        one side signed in this run, except in capped buckets, which give their sorted-neighbourhood pairs."""
        con, p, run = self.con, _q(self.params_id), _q(self.run_id)
        con.execute(
            "CREATE TABLE scratch.cur AS SELECT doc_id, max(run_id) AS run_id FROM dedup_signatures "
            f"WHERE params_id = {p} GROUP BY doc_id"
        )
        con.execute("CREATE TABLE scratch.cand (doc_a VARCHAR, doc_b VARCHAR)")
        con.execute("CREATE TABLE scratch.big (band INTEGER, hash BIGINT, doc_id VARCHAR, is_new BOOLEAN)")
        new_bands = [
            b
            for (b,) in con.execute(
                f"SELECT DISTINCT band FROM dedup_bands WHERE params_id = {p} AND run_id = {run} ORDER BY 1"
            ).fetchall()
        ]
        if not new_bands:
            return
        # one streaming pass splits the current index rows by band; each band is then joined on its own
        con.execute(
            f"COPY (SELECT x.band, x.hash, x.doc_id, x.run_id = {run} AS is_new FROM dedup_bands x "
            f"JOIN scratch.cur c ON c.doc_id = x.doc_id AND c.run_id = x.run_id WHERE x.params_id = {p}) "
            f"TO {_q(str(self.dir / 'bands'))} (FORMAT parquet, PARTITION_BY (band))"
        )
        for band in new_bands:
            self._band(band, cfg.max_bucket)
        self._capped(cfg)
        self.counts["raw_pairs"] = con.execute("SELECT count(*) FROM scratch.cand").fetchall()[0][0]

    def _band(self, band: int, cap: int) -> None:
        con = self.con
        con.execute(
            "CREATE OR REPLACE TABLE scratch.r AS SELECT hash, doc_id, is_new FROM "
            f"read_parquet({_q(str(self.dir / 'bands' / f'band={band}' / '*.parquet'))}, hive_partitioning = false)"
        )
        con.execute(
            "CREATE OR REPLACE TABLE scratch.k AS SELECT hash, count(*) AS size FROM scratch.r GROUP BY hash "
            "HAVING bool_or(is_new) AND count(*) > 1"
        )
        con.execute(
            "INSERT INTO scratch.cand SELECT least(n.doc_id, o.doc_id), greatest(n.doc_id, o.doc_id) "
            "FROM scratch.r n JOIN scratch.k k ON k.hash = n.hash JOIN scratch.r o ON o.hash = n.hash "
            f"WHERE k.size <= {cap} AND n.is_new AND n.doc_id <> o.doc_id AND (NOT o.is_new OR n.doc_id < o.doc_id)"
        )
        con.execute(
            f"INSERT INTO scratch.big SELECT {band}, r.hash, r.doc_id, r.is_new FROM scratch.r r "
            f"JOIN scratch.k k ON k.hash = r.hash WHERE k.size > {cap}"
        )
        n, members = con.execute(
            f"SELECT count(*), coalesce(sum(size), 0) FROM scratch.k WHERE size > {cap}"
        ).fetchall()[0]
        self.counts["buckets_capped"] += n
        self.counts["capped_bucket_members"] += int(members)

    def _capped(self, cfg: DedupConfig) -> None:
        """Sorted-neighbourhood pairs inside the capped buckets (see the module docstring)."""
        if not self.counts["buckets_capped"]:
            return
        con = self.con
        _, rows = cfg.band_params()
        num_perm = cfg.minhash.num_perm
        con.execute(
            "CREATE TABLE scratch.bigsig AS SELECT s.doc_id, s.signature FROM dedup_signatures s "
            "JOIN scratch.cur c ON c.doc_id = s.doc_id AND c.run_id = s.run_id "
            f"WHERE s.params_id = {_q(self.params_id)} AND s.doc_id IN (SELECT doc_id FROM scratch.big)"
        )
        leads = ", ".join(
            f"lead(doc_id, {w}) OVER o AS n{w}, lead(is_new, {w}) OVER o AS new{w}" for w in range(1, NEIGHBOURS + 1)
        )
        pairs = " UNION ALL ".join(
            f"SELECT least(doc_id, n{w}), greatest(doc_id, n{w}) FROM w WHERE n{w} IS NOT NULL AND (is_new OR new{w})"
            for w in range(1, NEIGHBOURS + 1)
        )
        con.execute(
            f"""INSERT INTO scratch.cand
            WITH keyed AS (
                SELECT m.band, m.hash, m.doc_id, m.is_new, t.k,
                       s.signature[((m.band * {rows} + {rows} + t.k) % {num_perm}) + 1] AS key
                FROM scratch.big m JOIN scratch.bigsig s ON s.doc_id = m.doc_id, range({min(SORT_KEYS, num_perm - rows)}) t(k)),
            w AS (SELECT doc_id, is_new, {leads} FROM keyed
                  WINDOW o AS (PARTITION BY band, hash, k ORDER BY key, doc_id))
            {pairs}"""
        )

    def batches(self, cfg: DedupConfig, batch_rows: int = 10_000) -> Iterator[pa.RecordBatch]:
        """Distinct pairs with their MinHash estimate (`estimated`, datasketch's `jaccard`: the fraction of equal
        signature values, computed here so that no signature reaches Python) and, for `verify: exact`, both texts;
        hash-partitioned so that each DISTINCT and join holds about PAIRS_PER_PARTITION raw pairs; no global order."""
        con = self.con
        n_raw = self.counts["raw_pairs"]
        if not n_raw:
            return
        con.execute(
            "CREATE TABLE scratch.sig AS SELECT s.doc_id, s.signature FROM dedup_signatures s "
            "JOIN scratch.cur c ON c.doc_id = s.doc_id AND c.run_id = s.run_id "
            f"WHERE s.params_id = {_q(self.params_id)} AND s.doc_id IN "
            "(SELECT doc_a FROM scratch.cand UNION SELECT doc_b FROM scratch.cand)"
        )
        text_cols = joins = ""
        if cfg.verify == "exact":
            fa = ", ".join(f'da."{f}" AS "a_{f}"' for f in cfg.fields)
            fb = ", ".join(f'db."{f}" AS "b_{f}"' for f in cfg.fields)
            text_cols = f", {fa}, {fb}"
            joins = " JOIN documents_latest da ON da.doc_id = c.doc_a JOIN documents_latest db ON db.doc_id = c.doc_b"
        equal = "len(list_filter(sa.signature, lambda v, i: v = sb.signature[i]))"
        parts = math.ceil(n_raw / PAIRS_PER_PARTITION)
        for part in range(parts):
            yield from con.sql(
                f"WITH c AS (SELECT DISTINCT doc_a, doc_b FROM scratch.cand WHERE hash(doc_a, doc_b) % {parts} = {part}) "
                f"SELECT c.doc_a, c.doc_b, {equal} / {cfg.minhash.num_perm} AS estimated{text_cols} FROM c "
                f"JOIN scratch.sig sa ON sa.doc_id = c.doc_a JOIN scratch.sig sb ON sb.doc_id = c.doc_b{joins}"
            ).to_arrow_reader(batch_rows)
