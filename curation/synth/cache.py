"""Content-addressed response cache, so that a rerun or a resumed run never pays twice for a generation.

key = sha256(model id, weights fingerprint, rendered prompt, sampling parameters, JSON schema). Stored in
<warehouse>/cache/synth_responses.sqlite. SQLite (not Parquet units) because the cache is a key-value store that is
read per request and written per batch: WAL mode makes each batch's insert one atomic, durable transaction (a crash
loses at most the batch in flight and never corrupts earlier entries), readers never block the writer, and several
processes (parallel flows, the quality stage's teacher annotation) can share the file, writers serialising on
SQLite's lock with a busy timeout. Only successful generations are stored; errors are retried on the next run.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from curation.synth.engine import Engine, EngineWrapper, GenResult, Prompt, Sampling, parse_json
from curation.warehouse import Warehouse

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    text TEXT NOT NULL,
    finish_reason TEXT NOT NULL,
    n_prompt_tokens INTEGER NOT NULL,
    n_output_tokens INTEGER NOT NULL,
    created_at REAL NOT NULL
)
"""


def cache_path(wh: Warehouse) -> Path:
    return wh.root / "cache" / "synth_responses.sqlite"


def cache_key(model_id: str, fingerprint: str, rendered: str, sampling: Sampling, schema: dict | None) -> str:
    payload = json.dumps(
        {
            "model": model_id,
            "weights": fingerprint,
            "prompt": rendered,
            "sampling": sampling.as_dict(),
            "schema": schema,
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


class ResponseCache:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._con = sqlite3.connect(path, timeout=60, check_same_thread=False, isolation_level=None)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=NORMAL")
        self._con.execute(_SCHEMA)

    def get_many(self, keys: Sequence[str]) -> dict[str, tuple[str, str, int, int]]:
        out: dict[str, tuple[str, str, int, int]] = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                chunk = list(keys[i : i + 500])
                rows = self._con.execute(
                    "SELECT key, text, finish_reason, n_prompt_tokens, n_output_tokens FROM responses "
                    f"WHERE key IN ({','.join('?' * len(chunk))})",
                    chunk,
                ).fetchall()
                out.update({r[0]: r[1:] for r in rows})
        return out

    def put_many(self, model: str, entries: Sequence[tuple[str, GenResult]]) -> None:
        now = time.time()
        rows = [(k, model, r.text, r.finish_reason, r.n_prompt_tokens, r.n_output_tokens, now) for k, r in entries]
        with self._lock:
            self._con.execute("BEGIN IMMEDIATE")
            try:
                self._con.executemany("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
                self._con.execute("COMMIT")
            except BaseException:
                self._con.execute("ROLLBACK")
                raise

    def __len__(self) -> int:
        with self._lock:
            return self._con.execute("SELECT count(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._con.close()


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0


class CachedEngine(EngineWrapper):
    """Wraps an Engine with the response cache; same interface. `enabled=False` (--no-cache) neither reads nor
    writes, so a forced regeneration also leaves the cache as it was."""

    def __init__(self, inner: Engine, cache: ResponseCache | None, enabled: bool = True):
        super().__init__(inner)
        self.cache = cache
        self.enabled = enabled and cache is not None
        self.stats = CacheStats()
        self._lock = threading.Lock()

    def generate(
        self, prompts: Sequence[Prompt], sampling: Sampling | Sequence[Sampling], json_schema: dict | None = None
    ) -> list[GenResult]:
        if not self.enabled or self.cache is None:
            with self._lock:
                self.stats.misses += len(prompts)
            return self.inner.generate(prompts, sampling, json_schema)
        samplings = [sampling] * len(prompts) if isinstance(sampling, Sampling) else list(sampling)
        fp = self.inner.fingerprint()
        keys = [
            cache_key(self.model_id, fp, self.inner.render(p), s, json_schema)
            for p, s in zip(prompts, samplings, strict=True)
        ]
        found = self.cache.get_many(keys)
        results: list[GenResult | None] = [None] * len(prompts)
        miss = []
        for i, k in enumerate(keys):
            if k in found:
                text, finish, n_in, n_out = found[k]
                parsed = parse_json(text) if json_schema else None
                results[i] = GenResult(text, finish, n_in, n_out, parsed=parsed, cached=True)
            else:
                miss.append(i)
        if miss:
            fresh = self.inner.generate([prompts[i] for i in miss], [samplings[i] for i in miss], json_schema)
            for i, r in zip(miss, fresh, strict=True):
                results[i] = r
            self.cache.put_many(self.model_id, [(keys[i], r) for i, r in zip(miss, fresh, strict=True) if r.ok])
        with self._lock:
            self.stats.hits += len(prompts) - len(miss)
            self.stats.misses += len(miss)
        return results  # type: ignore[return-value]
