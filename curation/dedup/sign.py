"""Turn a batch of raw texts into exact hashes, statuses and MinHash signatures (the per-document work)."""

from __future__ import annotations

from typing import Any

import numpy as np

from curation.dedup.config import DedupConfig
from curation.dedup.minhash import Signed, signatures
from curation.dedup.text import exact_hash, normalize, shingle_count, shingle_spans

# Document statuses, recorded in the annotation as dup_status:
EMPTY = "empty"  # nothing left after normalization: neither exact nor near dedup (and quarantined)
SHORT = "short"  # fewer than min_shingles shingles: exact-hash dedup only
TRUNCATED = "truncated"  # longer than max_chars or max_shingles: signed on the bounded prefix
OK = "ok"


def sign_texts(texts: list[str], cfg: DedupConfig) -> Signed:
    sh = cfg.shingle
    status: list[str] = []
    hashes: list[Any] = []
    signed_texts: list[str] = []
    counts = np.zeros(len(texts), np.int64)
    sig_row = np.full(len(texts), -1, np.int64)
    for i, raw in enumerate(texts):
        clipped = raw[: sh.max_chars]
        norm = normalize(clipped, cfg.normalize)
        hashes.append(exact_hash(norm))
        counts[i] = n = shingle_count(norm, sh)
        if n == 0:
            status.append(EMPTY)
        elif n < sh.min_shingles:
            status.append(SHORT)
        else:
            status.append(TRUNCATED if len(raw) > sh.max_chars or n > sh.max_shingles else OK)
            sig_row[i] = len(signed_texts)
            signed_texts.append(norm)
    if signed_texts:
        sigs = signatures(shingle_spans(signed_texts, sh), cfg.minhash)
    else:
        sigs = np.zeros((0, cfg.minhash.num_perm), np.uint32)
    return Signed(status, hashes, counts, sig_row, sigs)


def join_fields(values: list[str | None]) -> str:
    """The text that is deduplicated: the configured fields, in order, blank-line separated (nulls skipped)."""
    return "\n\n".join(v for v in values if v)
