"""`near_duplicates()`: the same normalization, MinHash, banding, verification and union-find for any records
held in memory (synthetic questions, benchmark items), without the warehouse. Memory is one signature per record
(num_perm × 4 bytes), so this is for up to a few million records; corpora go through the warehouse stage."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

import numpy as np

from curation.dedup.components import components
from curation.dedup.config import DedupConfig
from curation.dedup.minhash import band_hashes, estimate_jaccard
from curation.dedup.sign import EMPTY, sign_texts


def _pairs_sharing_a_bucket(bh: np.ndarray) -> np.ndarray:
    """(k, 2) index pairs i < j with equal hashes in some band (each bucket linked as consecutive members)."""
    out = []
    for band in bh.T:
        order = np.argsort(band, kind="stable")
        same = band[order][1:] == band[order][:-1]
        # chain members of a bucket: verification of chain links + transitivity of components keeps it linear
        out.append(np.stack([order[:-1][same], order[1:][same]], axis=1))
    pairs = np.concatenate(out) if out else np.zeros((0, 2), np.int64)
    return np.unique(np.sort(pairs, axis=1), axis=0)


def near_duplicates(
    records: Iterable[tuple[str, str]], cfg: DedupConfig | None = None, *, batch_size: int = 5_000
) -> list[list[str]]:
    """Clusters (size ≥ 2) of record ids whose texts are exact or near duplicates under `cfg`; each cluster sorted,
    clusters ordered by their first id. Empty texts are never clustered."""
    cfg = cfg or DedupConfig()
    it = iter(records)
    ids: list[str] = []
    hashes: list[str] = []
    sig_ids: list[int] = []
    sig_parts: list[np.ndarray] = []
    while chunk := list(islice(it, batch_size)):
        signed = sign_texts([t for _, t in chunk], cfg)
        for i, (rid, _) in enumerate(chunk):
            if signed.sig_row[i] >= 0:
                sig_ids.append(len(ids))
            ids.append(str(rid))
            hashes.append("" if signed.status[i] == EMPTY else signed.exact_hash[i])
        sig_parts.append(signed.sigs)
    sigs = np.concatenate(sig_parts) if sig_parts else np.zeros((0, cfg.minhash.num_perm), np.uint32)
    sig_ids_arr = np.asarray(sig_ids, np.int64)
    edges = [np.zeros((0, 2), np.int64)]
    if len(sigs) > 1:
        pairs = _pairs_sharing_a_bucket(band_hashes(sigs, *cfg.band_params()))
        est = estimate_jaccard(sigs[pairs[:, 0]], sigs[pairs[:, 1]])
        keep = np.ones(len(pairs), bool) if cfg.verify == "none" else est >= cfg.threshold
        edges.append(sig_ids_arr[pairs[keep]])
    by_hash: dict[str, int] = {}
    exact = []
    for i, h in enumerate(hashes):
        if h:
            first = by_hash.setdefault(h, i)
            if first != i:
                exact.append((first, i))
    edges.append(np.asarray(exact, np.int64).reshape(-1, 2))
    e = np.concatenate(edges)
    labels = components(e[:, 0], e[:, 1], len(ids))
    groups: dict[int, list[str]] = {}
    for i, lab in enumerate(labels.tolist()):
        groups.setdefault(lab, []).append(ids[i])
    return sorted((sorted(g) for g in groups.values() if len(g) > 1), key=lambda g: g[0])
