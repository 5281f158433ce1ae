"""`medcurate dedup explain DOC_ID`: a document's cluster, the kept member and why, and pairwise similarities
(MinHash estimate from the stored signatures and exact Jaccard recomputed from the texts)."""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np

from curation.dedup.config import DedupConfig
from curation.dedup.index import _q, jaccard, prepare
from curation.dedup.sign import join_fields
from curation.errors import UserError
from curation.warehouse import Warehouse

MAX_MEMBERS = 50


def explain(wh: Warehouse, doc_id: str, cfg: DedupConfig) -> dict[str, Any]:
    con = prepare(wh, cfg.params_id(), cfg.memory_limit)
    found = con.execute("SELECT dup_cluster_id FROM annotations_dedup WHERE doc_id = ?", [doc_id]).fetchall()
    if not found:
        raise UserError(f"{doc_id!r} has no dedup annotation (unknown doc_id, or dedup has not run)")
    row = found[0]
    fields = ", ".join(f'd."{f}"' for f in cfg.fields)
    members = con.execute(
        f"SELECT a.doc_id, a.is_duplicate, a.dup_reason, a.dup_status, a.max_similarity, d.is_current, "
        f"d.commercial_use, length(coalesce(d.text, '')) AS text_len, s.signature, {fields} "
        f"FROM annotations_dedup a JOIN documents_latest d USING (doc_id) LEFT JOIN sig_cur s USING (doc_id) "
        f"WHERE a.dup_cluster_id = {_q(row[0])} ORDER BY a.doc_id LIMIT {MAX_MEMBERS}"
    ).fetchall()
    kept = con.execute(
        "SELECT DISTINCT dup_kept_id, cluster_size FROM annotations_dedup WHERE dup_cluster_id = ?", [row[0]]
    ).fetchall()[0]
    con.close()
    n_fixed = 9
    info: list[dict[str, Any]] = []
    for m in members:
        info.append(
            {
                "doc_id": m[0],
                "is_duplicate": m[1],
                "dup_reason": m[2],
                "dup_status": m[3],
                "max_similarity": m[4],
                "is_current": m[5],
                "commercial_use": m[6],
                "text_len": m[7],
                "_sig": None if m[8] is None else np.asarray(m[8]),
                "_text": join_fields(list(m[n_fixed:])),
            }
        )
    pairs: list[dict[str, Any]] = []
    for a, b in combinations(info, 2):
        est = None
        if a["_sig"] is not None and b["_sig"] is not None:
            est = round(float((a["_sig"] == b["_sig"]).mean()), 4)
        pairs.append(
            {
                "a": a["doc_id"],
                "b": b["doc_id"],
                "estimated": est,
                "exact": round(jaccard(a["_text"], b["_text"], cfg), 4),
            }
        )
    for member in info:
        del member["_sig"], member["_text"]
    return {
        "doc_id": doc_id,
        "cluster_id": row[0],
        "cluster_size": kept[1],
        "kept": kept[0],
        "keep_policy": list(cfg.keep),
        "members": info,
        "members_shown": len(info),
        "pairs": pairs,
    }
