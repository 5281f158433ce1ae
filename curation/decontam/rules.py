"""The rules: PMID exclusion, word n-gram overlap with long items, fuzzy ratio for short items.

For one text the result is the best match over all rules: pmid beats ngram beats fuzzy, then higher overlap.
`overlap` is the evidence strength in [0, 1]: 1.0 for a PMID match; for ngram, the fraction of the item segment's
distinct n-grams present in the text (`ngrams` is their count); for fuzzy, the rapidfuzz ratio / 100.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import numpy as np
from rapidfuzz import fuzz, process

from curation.decontam.index import EvalIndex
from curation.decontam.normalize import ngram_hashes, prefix_hashes, word_hashes, words

_PRIORITY = {"pmid": 0, "ngram": 1, "fuzzy": 2}
_PUBMED_ID = re.compile(r"^pubmed:(\d+)(?:\.\d+)?$")


@dataclass(frozen=True)
class Match:
    contaminated: bool
    contam_benchmark: str | None = None
    contam_item_id: str | None = None
    contam_rule: str | None = None
    overlap: float = 0.0
    contam_ngrams: int = 0
    contam_items: int = 0

    def columns(self) -> dict:
        return asdict(self)


CLEAN = Match(False)


def pmid_of(pmid: str | None, doc_id: str | None) -> str | None:
    """A document's PMID: its pmid column, else the PMID in a pubmed doc_id (pubmed:PMID or pubmed:PMID.N)."""
    if pmid:
        return str(pmid).strip()
    m = _PUBMED_ID.match(doc_id or "")
    return m.group(1) if m else None


def _hits(query: np.ndarray, hashes: np.ndarray, segs: np.ndarray) -> np.ndarray:
    """Segment ids of every index n-gram equal to one of `query` (an n-gram may belong to several segments)."""
    if not len(query) or not len(hashes):
        return np.empty(0, np.int32)
    lo = np.searchsorted(hashes, query, "left")
    found = hashes[np.minimum(lo, len(hashes) - 1)] == query
    if not found.any():
        return np.empty(0, np.int32)
    lo, query = lo[found], query[found]
    cnt = np.searchsorted(hashes, query, "right") - lo
    if cnt.max() == 1:
        return segs[lo]
    starts = np.repeat(lo - np.concatenate(([0], np.cumsum(cnt)[:-1])), cnt)
    return segs[starts + np.arange(cnt.sum())]


def match_text(text: str | None, index: EvalIndex, pmid: str | None = None) -> Match:
    """Check one text (and its PMID, when it has one) against the index."""
    cfg = index.cfg
    cands: list[tuple[int, float, int, str, int]] = []  # (priority, -overlap, segment, rule, ngrams)
    if pmid and pmid in index.pmids:
        cands.append((0, -1.0, index.pmids[pmid], "pmid", 0))
    ws = words(text)
    norm: str | None = None
    if ws:
        wh = word_hashes(ws)
        prefix = prefix_hashes(wh)
        if len(ws) >= cfg.ngram_n and len(index.long_hashes):
            segs, counts = np.unique(
                _hits(ngram_hashes(wh, cfg.ngram_n, prefix), index.long_hashes, index.long_segs), return_counts=True
            )
            for seg, c in zip(segs.tolist(), counts.tolist(), strict=True):
                ov = c / index.segments[seg].n_grams
                if c >= cfg.min_ngram_matches or ov >= cfg.min_overlap:
                    cands.append((1, -ov, seg, "ngram", c))
        if len(ws) >= cfg.short_n and len(index.short_hashes):
            for seg in np.unique(
                _hits(ngram_hashes(wh, cfg.short_n, prefix), index.short_hashes, index.short_segs)
            ).tolist():
                norm = norm or " ".join(ws)
                score = fuzz.partial_ratio(index.segments[seg].text, norm, score_cutoff=cfg.fuzzy_threshold)
                if score:
                    cands.append((2, -score / 100, seg, "fuzzy", 0))
        if len(ws) <= cfg.fuzzy_max_words and len(index.short_by_len):
            norm = norm or " ".join(ws)
            cands += _whole_text_fuzzy(norm, index)
    if not cands:
        return CLEAN
    best = min(cands)
    seg = index.segments[best[2]]
    items = len({index.segments[c[2]].item_id for c in cands})
    return Match(True, seg.benchmark, seg.item_id, best[3], round(-best[1], 6), best[4], items)


def _whole_text_fuzzy(norm: str, index: EvalIndex) -> list[tuple[int, float, int, str, int]]:
    """fuzz.ratio against short items of compatible length only: ratio >= t needs len ratio >= t / (2 - t)."""
    t = index.cfg.fuzzy_threshold / 100
    k = t / (2 - t)
    lo = np.searchsorted(index.short_lens, int(np.ceil(len(norm) * k)), "left")
    hi = np.searchsorted(index.short_lens, int(len(norm) / k), "right")
    if hi <= lo:
        return []
    ids = index.short_by_len[lo:hi].tolist()
    choices = [index.segments[i].text for i in ids]
    found = process.extract(norm, choices, scorer=fuzz.ratio, score_cutoff=index.cfg.fuzzy_threshold, limit=None)
    return [(2, -score / 100, ids[j], "fuzzy", 0) for _, score, j in found]
