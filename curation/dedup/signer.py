"""Signing on worker processes.

Signing is CPU-bound: normalization and shingling in Python, hashing in DuckDB, the permutations in numpy. Much of
it holds the GIL, so threads do not scale it (bench/dedup.py: 2 threads sign no faster than 1); a pool of processes
does. The stage's shard threads hand each batch's texts to the pool and wait for the signatures, which are small
(num_perm × 4 bytes a document). A run with a single batch signs in-process: starting the pool (new interpreters
importing numpy, DuckDB and pyarrow) costs more than signing one batch.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from curation.dedup.config import DedupConfig
from curation.dedup.minhash import Signed
from curation.dedup.sign import sign_texts


def _init_worker() -> None:
    from curation.dedup import minhash

    minhash.DUCKDB_THREADS = 1


class Signer:
    """sign_texts on `processes` worker processes (0: in the calling thread)."""

    def __init__(self, cfg: DedupConfig, processes: int):
        self.cfg = cfg
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None
        if processes > 0:
            # spawn, not fork: the parent runs threads (Prefect, DuckDB) that a forked child would inherit locked.
            ctx = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(processes, mp_context=ctx, initializer=_init_worker)

    def sign(self, texts: list[str]) -> Signed:
        if self._pool is None:
            return sign_texts(texts, self.cfg)
        return self._pool.submit(sign_texts, texts, self.cfg).result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __enter__(self) -> Signer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
