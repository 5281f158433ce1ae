"""The dedup stage over the warehouse: sign what is new or revised (in shards, each a unit of work on the stage's
executor), find and verify candidate pairs against the persistent band index, recluster, and annotate what
changed."""

from __future__ import annotations

import itertools
import resource
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from curation.dedup.clusters import write_annotations
from curation.dedup.config import DedupConfig
from curation.dedup.index import count_pending, find_edges, pending, prepare, sign_shard
from curation.dedup.memory import release_freed_memory
from curation.dedup.signer import Signer
from curation.progress import Tracker, tracker
from curation.stages import STAGES, Stage, StageContext
from curation.warehouse import RunRecorder, Warehouse

ShardRunner = Callable[..., Future]


def _peak_rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def run_dedup(wh: Warehouse, cfg: DedupConfig, run: RunRecorder, submit: ShardRunner | None = None) -> dict[str, Any]:
    """One incremental dedup run. `submit(fn, *args)` runs a shard and returns a future (threads by default);
    at most 2 × workers shards are in flight, so memory stays bounded by the batch size."""
    params_id = cfg.params_id()
    bands, rows = cfg.band_params()
    run.set("extra", "params_id", params_id)
    run.set("extra", "bands_rows", [bands, rows])
    counts: Counter[str] = Counter()
    pool = None
    if submit is None:
        pool = ThreadPoolExecutor(2 * cfg.workers)  # as the flow: one batch signing, one being read or written
        submit = pool.submit
    signer = None
    try:
        with run.timed("sign"):
            con = prepare(wh, params_id, cfg.memory_limit)
            bar = tracker(count_pending(con, cfg), "documents signed")
            batches = pending(con, cfg, cfg.batch_size)
            head = list(itertools.islice(batches, 2))
            processes = cfg.sign_processes if cfg.sign_processes is not None else cfg.workers * (len(head) > 1)
            signer = Signer(cfg, processes)
            run.set("extra", "sign_processes", processes)
            inflight: list[tuple[Future, int]] = []
            for i, batch in enumerate(itertools.chain(head, batches)):
                unit = f"{run.run_id}-{i:05d}"
                fut = submit(sign_shard, wh, batch, cfg, params_id, run.run_id, unit, signer)
                inflight.append((fut, batch.num_rows))
                while len(inflight) >= 2 * cfg.workers:
                    _collect(inflight.pop(0), counts, bar)
            for shard in inflight:
                _collect(shard, counts, bar)
            bar.close()
            con.close()
    finally:
        if pool is not None:
            pool.shutdown()
        if signer is not None:
            signer.close()
    peak_rss = {"sign": _peak_rss_mb()}
    release_freed_memory()
    with run.timed("candidates"):
        counts.update(find_edges(wh, cfg, params_id, run.run_id))
    peak_rss["candidates"] = _peak_rss_mb()
    release_freed_memory()
    with run.timed("cluster_annotate"):
        counts.update(write_annotations(wh, cfg, params_id, run.run_id))
    peak_rss["cluster_annotate"] = _peak_rss_mb()
    run.set("extra", "peak_rss_mb", peak_rss)  # the process's peak so far after each phase: where memory grew
    for k, v in counts.items():
        run.count(f"dedup.{k}", v)
    if counts.get("status_empty"):
        run.quarantined({"empty_text": counts["status_empty"]})
    return {"run_id": run.run_id, "params_id": params_id, "bands": bands, "rows": rows, **counts}


def _collect(shard: tuple[Future, int], counts: Counter[str], bar: Tracker) -> None:
    fut, n = shard
    counts.update(fut.result())
    bar.advance(n)


def run(ctx: StageContext) -> dict[str, Any]:
    def submit(fn: Callable[..., Any], *args: Any) -> Any:  # args: wh, batch, cfg, params_id, run_id, unit, signer
        return ctx.submit(fn, *args, name=f"dedup:sign {args[5]}", retries=1)

    return run_dedup(ctx.warehouse, ctx.config, ctx.run, submit=submit)


def _summary(s: dict[str, Any]) -> str:
    return (
        f"signed {s.get('signed', 0)}, candidates {s.get('candidates', 0)}, new edges {s.get('edges_new', 0)}, "
        f"{s.get('duplicates', 0)} duplicates in {s.get('clusters', 0)} clusters, "
        f"{s.get('annotations_written', 0)} annotations written (bands×rows {s['bands']}×{s['rows']})"
    )


STAGES.register(
    Stage(
        name="dedup",
        order=20,
        run=run,
        config=DedupConfig,
        description="exact and MinHash near-duplicate clusters, incremental, with a keep policy",
        reads=("documents_current",),
        writes=("annotations_dedup",),
        # two shard threads per signing worker: while one waits for its batch's signatures, the other reads or writes
        threads=lambda cfg: 2 * cfg.workers,
        commands="curation.dedup.cli:register",
        summary=_summary,
    )
)
