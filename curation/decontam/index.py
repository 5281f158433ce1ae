"""The evaluation-item index: PMIDs, hashed word n-grams of long items, short items for fuzzy matching.

Built from `benchmark_items` rows (the warehouse view, or any iterable of item dicts such as parser output), so it
does not depend on how items were ingested. Each item contributes segments: its question, and its context
(PubMedQA's abstract) when `index_context`. A segment with at least `ngram_n` words is "long": its distinct
n-grams go to a sorted uint64 array (searchsorted lookups; ~16 bytes per n-gram, so a million n-grams is 16 MB).
A shorter segment is "short": its `short_n`-grams go to a second array that only nominates candidates, which are
then confirmed by a rapidfuzz ratio, and its normalized text is kept (sorted by length) for whole-text fuzzy checks.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from curation.decontam.config import DecontamConfig
from curation.decontam.normalize import ngram_hashes, normalized, word_hashes, words


@dataclass(frozen=True)
class Segment:
    item_id: str
    benchmark: str
    field: str  # question | context
    n_grams: int  # distinct n-grams (long) or short_n-grams (short)
    text: str  # normalized text (kept for short segments only)


def is_eval_item(row: Mapping[str, Any], cfg: DecontamConfig) -> bool:
    bench, split = row.get("benchmark"), row.get("split")
    if bench is None:  # an item without a benchmark is in no configured split
        return False
    if split in cfg.eval_splits.get(bench, []):
        return True
    name = str(row.get("source_file") or "").rsplit("/", 1)[-1]
    return any(fnmatch.fnmatch(name, g) for g in cfg.all_splits_files.get(bench, []))


def eval_items_sql(cfg: DecontamConfig) -> tuple[str, list[Any]]:
    """SELECT over benchmark_items for the evaluation items (pushes the split filter into DuckDB)."""
    conds, params = [], []
    for bench, splits in cfg.eval_splits.items():
        if splits:
            conds.append(f"(benchmark = ? AND split IN ({', '.join('?' * len(splits))}))")
            params += [bench, *splits]
    for bench, globs in cfg.all_splits_files.items():
        for g in globs:
            conds.append("(benchmark = ? AND regexp_extract(source_file, '[^/]+$') GLOB ?)")
            params += [bench, g]
    where = " OR ".join(conds) or "false"
    return (
        f"SELECT item_id, benchmark, split, question, context, pmid, source_file FROM benchmark_items "
        f"WHERE {where} ORDER BY item_id"
    ), params


@dataclass
class EvalIndex:
    cfg: DecontamConfig
    segments: list[Segment] = field(default_factory=list)
    pmids: dict[str, int] = field(default_factory=dict)  # pmid -> index of the item's first segment
    long_hashes: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint64))
    long_segs: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))
    short_hashes: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint64))
    short_segs: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))
    short_by_len: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))  # short segment ids by length
    short_lens: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))
    n_items: int = 0

    @classmethod
    def from_items(
        cls, rows: Iterable[Mapping[str, Any]], cfg: DecontamConfig | None = None, *, filter_eval: bool = False
    ) -> EvalIndex:
        """Index item rows (question, context, pmid, item_id, benchmark). With filter_eval, rows that are not
        evaluation items under `cfg` are skipped (the warehouse path filters in SQL instead)."""
        cfg = cfg or DecontamConfig()
        idx = cls(cfg)
        lh, ls, sh, ss = [], [], [], []
        seen: set[str] = set()
        for row in rows:
            if filter_eval and not is_eval_item(row, cfg):
                continue
            item_id = str(row["item_id"])
            if item_id in seen:
                continue
            seen.add(item_id)
            idx.n_items += 1
            fields = [("question", row.get("question"))]
            if cfg.index_context:
                fields.append(("context", row.get("context")))
            first = len(idx.segments)
            for name, text in fields:
                ws = words(text)
                if not ws:
                    continue
                seg_id = len(idx.segments)
                wh = word_hashes(ws)
                if len(ws) >= cfg.ngram_n:
                    grams = ngram_hashes(wh, cfg.ngram_n)
                    lh.append(grams)
                    ls.append(np.full(len(grams), seg_id, np.int32))
                    idx.segments.append(Segment(item_id, row.get("benchmark") or "", name, len(grams), ""))
                else:  # under short_n words: no n-grams, whole-text fuzzy only
                    grams = ngram_hashes(wh, cfg.short_n)
                    sh.append(grams)
                    ss.append(np.full(len(grams), seg_id, np.int32))
                    idx.segments.append(Segment(item_id, row.get("benchmark") or "", name, len(grams), " ".join(ws)))
            pmid = row.get("pmid")
            if pmid and cfg.pmid_rule and len(idx.segments) > first:
                idx.pmids.setdefault(str(pmid).strip(), first)
            elif pmid and cfg.pmid_rule:  # an item with a PMID but no text still excludes its abstract
                idx.segments.append(Segment(item_id, row.get("benchmark") or "", "pmid", 0, ""))
                idx.pmids.setdefault(str(pmid).strip(), len(idx.segments) - 1)
        idx.long_hashes, idx.long_segs = _sorted(lh, ls)
        idx.short_hashes, idx.short_segs = _sorted(sh, ss)
        short_ids = np.array([i for i, s in enumerate(idx.segments) if s.text], dtype=np.int32)
        lens = np.array([len(idx.segments[i].text) for i in short_ids], dtype=np.int32)
        order = np.argsort(lens, kind="stable")
        idx.short_by_len, idx.short_lens = short_ids[order], lens[order]
        return idx

    @classmethod
    def from_warehouse(cls, con, cfg: DecontamConfig | None = None) -> EvalIndex:
        """Index the evaluation items of the warehouse's benchmark_items view (a DuckDB connection)."""
        cfg = cfg or DecontamConfig()
        sql, params = eval_items_sql(cfg)
        cur = con.execute(sql, params)
        cols = [d[0] for d in cur.description]
        return cls.from_items((dict(zip(cols, r, strict=True)) for r in cur.fetchall()), cfg)

    def stats(self) -> dict[str, int]:
        return {
            "items": self.n_items,
            "segments": len(self.segments),
            "long_ngrams": len(self.long_hashes),
            "short_ngrams": len(self.short_hashes),
            "short_segments": len(self.short_by_len),
            "pmids": len(self.pmids),
            "bytes": int(
                self.long_hashes.nbytes + self.long_segs.nbytes + self.short_hashes.nbytes + self.short_segs.nbytes
            ),
        }

    def fingerprint(self) -> str:
        import hashlib

        h = hashlib.sha256(self.cfg.model_dump_json().encode())
        for a in (self.long_hashes, self.short_hashes):
            h.update(a.tobytes())
        h.update("\n".join(sorted(self.pmids)).encode())
        return h.hexdigest()[:16]


def _sorted(hashes: list[np.ndarray], segs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    if not hashes:
        return np.empty(0, np.uint64), np.empty(0, np.int32)
    h, s = np.concatenate(hashes), np.concatenate(segs)
    order = np.argsort(h, kind="stable")
    return h[order], s[order]


__all__ = ["EvalIndex", "Segment", "eval_items_sql", "is_eval_item", "normalized"]
