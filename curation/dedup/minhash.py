"""MinHash signatures for whole batches, bit-identical to `datasketch.MinHash` (scheme affine32, its default).

datasketch, per document: h = sha1_hash32(shingle); h = fmix32(h); value_k = min over shingles of a_k*h + b_k
(mod 2^32), with (a, b) drawn by `np.random.RandomState(seed)`. We take (a, b) from datasketch itself and do the
same arithmetic, but for thousands of documents at once: shingles are byte ranges of one buffer, hashed by DuckDB's
vectorized sha1 (no Python call per shingle), and the permutation step is one numpy pass per permutation with a
segmented min (`np.minimum.reduceat`) over all documents of the batch.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa

from curation.dedup.config import MinHashConfig
from curation.dedup.text import Spans

_FMIX = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35))
# DuckDB threads for the sha1 step; None = DuckDB's default (all cores). Signing worker processes set 1, since
# the processes already use the cores (curation/dedup/signer.py).
DUCKDB_THREADS: int | None = None


@functools.cache
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's own permutation parameters (a odd, b), uint32."""
    from datasketch import MinHash

    a, b = MinHash(num_perm=num_perm, seed=seed).permutations
    return a.astype(np.uint32), b.astype(np.uint32)


@functools.cache
def optimal_bands(threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5) -> tuple[int, int]:
    """(bands, rows) minimizing datasketch's weighted false positive/negative probability for the threshold."""
    from datasketch.lsh import _optimal_param

    return _optimal_param(threshold, num_perm, fp_weight, fn_weight)


def fmix32(h: np.ndarray) -> np.ndarray:
    s1, m1, s2, m2 = _FMIX
    h = h ^ (h >> s1)
    h = h * m1
    h = h ^ (h >> s2)
    h = h * m2
    return h ^ (h >> s1)


def _binary_view(spans: Spans) -> pa.Array:
    """An Arrow binary_view array whose values are the shingles, pointing into (a padded copy of) spans.data.

    A view is four little-endian uint32 words: length, then for values of up to 12 bytes the bytes themselves
    (zero padded), else a 4-byte prefix, buffer index 0 and the offset. The words are gathered from a strided
    uint32 view of the data at every byte offset (unaligned reads)."""
    n = len(spans.start)
    padded = spans.data + bytes(12)
    words = np.ndarray((len(spans.data) + 9,), "<u4", padded, 0, (1,))  # words[i] = bytes i..i+3
    views = np.empty((n, 4), "<u4")
    views[:, 0] = spans.length
    views[:, 1] = words[spans.start]
    small = spans.length <= 12
    if small.any():  # inline values: all three words, bytes past the length zeroed
        idx = np.flatnonzero(small)
        length, start = spans.length[idx], spans.start[idx]
        for j in range(3):
            valid = np.clip(length - 4 * j, 0, 4).astype(np.uint64)
            mask = ((np.uint64(1) << (valid * np.uint64(8))) - np.uint64(1)).astype(np.uint32)
            views[idx, 1 + j] = words[start + 4 * j] & mask
    big = np.flatnonzero(~small)
    views[big, 2] = 0
    views[big, 3] = spans.start[big]
    return pa.Array.from_buffers(pa.binary_view(), n, [None, pa.py_buffer(views), pa.py_buffer(padded)])


def sha1_hash32_batch(spans: Spans) -> np.ndarray:
    """datasketch.hashfunc.sha1_hash32 of every shingle (first 4 digest bytes, little-endian), via DuckDB: its
    sha1 gives hex, unhex of the first 8 digits gives those 4 bytes, read in place as uint32."""
    if len(spans.start) == 0:
        return np.zeros(0, np.uint32)
    con = duckdb.connect(":memory:", config={"threads": DUCKDB_THREADS} if DUCKDB_THREADS else {})
    try:
        shingle_table = pa.table({"s": _binary_view(spans)})  # noqa: F841 (read by DuckDB's replacement scan)
        digests = con.sql("SELECT unhex(sha1(s)[1:8]) AS h FROM shingle_table").to_arrow_table()
    finally:
        con.close()
    col = digests.column("h").combine_chunks().cast(pa.large_binary())
    offsets = np.frombuffer(col.buffers()[1], np.int64)[col.offset : col.offset + len(col) + 1]
    if offsets[-1] - offsets[0] != 4 * len(col):
        raise RuntimeError("unexpected sha1 output from DuckDB")
    return np.frombuffer(col.buffers()[2], "<u4", len(col), int(offsets[0])).astype(np.uint32)


def xxh32_batch(spans: Spans) -> np.ndarray:
    """xxhash.xxh32_intdigest of every shingle (the optional faster-to-compute-per-call hash)."""
    import xxhash

    mv = memoryview(spans.data)
    return np.fromiter(
        (
            xxhash.xxh32_intdigest(mv[s : s + n])
            for s, n in zip(spans.start.tolist(), spans.length.tolist(), strict=True)
        ),
        np.uint32,
        len(spans.start),
    )


def hash_shingles(spans: Spans, cfg: MinHashConfig) -> np.ndarray:
    return sha1_hash32_batch(spans) if cfg.hash == "sha1" else xxh32_batch(spans)


def signatures(spans: Spans, cfg: MinHashConfig) -> np.ndarray:
    """(documents, num_perm) uint32 signatures; every document must have at least one shingle."""
    a, b = permutations(cfg.num_perm, cfg.seed)
    hv = fmix32(hash_shingles(spans, cfg))
    starts = spans.offsets[:-1]
    out = np.empty((cfg.num_perm, len(starts)), np.uint32)
    tmp = np.empty_like(hv)
    for k in range(cfg.num_perm):
        np.multiply(hv, a[k], out=tmp)
        tmp += b[k]
        out[k] = np.minimum.reduceat(tmp, starts)
    return np.ascontiguousarray(out.T)


def band_hashes(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(documents, bands) int64: each band's `rows` values folded into one 64-bit hash (FNV-style, then fmix64)."""
    out = np.empty((sigs.shape[0], bands), np.uint64)
    prime, m1, m2 = np.uint64(0x100000001B3), np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53)
    for i in range(bands):
        h = np.full(sigs.shape[0], 0xCBF29CE484222325 ^ i, np.uint64)
        for v in sigs[:, i * rows : (i + 1) * rows].T:
            h = (h ^ v.astype(np.uint64)) * prime
        h ^= h >> np.uint64(33)
        h *= m1
        h ^= h >> np.uint64(33)
        h *= m2
        h ^= h >> np.uint64(33)
        out[:, i] = h
    return out.view(np.int64)


def estimate_jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise fraction of equal signature values: datasketch's MinHash.jaccard estimate."""
    return (a == b).mean(axis=-1)


@dataclass
class Signed:
    """A batch after signing: per document the status, exact hash, shingle count and (if any) signature row."""

    status: list[str]
    exact_hash: list[str]
    n_shingles: np.ndarray
    sig_row: np.ndarray  # index into sigs, -1 when the document has no signature (empty or exact-only)
    sigs: np.ndarray
