"""Huge band buckets (recurring text shared by many documents): the candidate search stays within a small DuckDB
memory limit, counts the capped buckets in the run record, and still finds a near-duplicate whose every shared
bucket is capped."""

from __future__ import annotations

import json
import random

from curation.dedup.candidates import NEIGHBOURS, SORT_KEYS
from curation.dedup.config import DedupConfig
from curation.dedup.stage import run_dedup
from curation.warehouse import Warehouse, connect, start_run
from tests.factories import doc_row, write_documents

RNG = random.Random(5)


def _words(n: int) -> list[str]:
    return [f"w{RNG.randint(0, 50_000)}" for _ in range(n)]


TEMPLATE = " ".join(_words(40))  # a methods sentence block recurring in every carrier (~25 % of its 5-grams)


def _carriers(n: int) -> list[dict]:
    return [doc_row(f"pubmed:{i:04d}", " ".join(_words(120)) + " " + TEMPLATE, title="") for i in range(n)]


def _corpus() -> list[dict]:
    rows = _carriers(400)
    own = _words(120)
    x = " ".join(own) + " " + TEMPLATE
    edited = list(own)
    for k in range(4):
        edited[15 + 20 * k] = f"edit{k}"
    rows += [
        doc_row("pubmed:x", x, title=""),
        doc_row("pubmed:y", x, title=""),  # exact copy: every bucket the near pair shares has ≥ 3 members
        doc_row("pubmed:z", " ".join(edited) + " " + TEMPLATE, title=""),  # near duplicate of x
    ]
    return rows


def _run(wh: Warehouse, cfg: DedupConfig) -> tuple[dict, dict]:
    with start_run(wh, "dedup") as run:
        summary = run_dedup(wh, cfg, run)
    counts = connect(wh).execute("SELECT counts FROM runs WHERE stage = 'dedup'").fetchone()[0]
    return summary, json.loads(counts)


def _clusters(wh: Warehouse) -> dict[str, str]:
    rows = connect(wh).execute("SELECT doc_id, dup_cluster_id FROM annotations_dedup").fetchall()
    return dict(rows)


def test_a_near_duplicate_found_only_through_capped_buckets(wh, tmp_path):
    write_documents(wh, _corpus())
    summary, counts = _run(wh, DedupConfig(max_bucket=2, memory_limit="64MB"))
    assert counts["dedup.buckets_capped"] == summary["buckets_capped"] > 0
    assert counts["dedup.capped_bucket_members"] > 100  # the template's buckets hold many of the 403 documents
    clusters = _clusters(wh)
    assert clusters["pubmed:z"] == clusters["pubmed:y"] == "pubmed:x"  # found only through capped buckets
    assert summary["duplicates"] == 2  # carriers sharing only the template stay apart

    uncapped = Warehouse(tmp_path / "uncapped").ensure()
    write_documents(uncapped, _corpus())
    full, _ = _run(uncapped, DedupConfig(max_bucket=10_000))
    assert full["buckets_capped"] == 0
    assert _clusters(uncapped) == clusters


def test_huge_buckets_are_bounded_under_a_small_memory_limit(wh):
    """One-row bands put every carrier whose minimum falls in the template into one bucket (~500 of 2,000 per
    band): all-to-all that is ~2.5 M pairs; capped, each member meets SORT_KEYS × NEIGHBOURS sorted neighbours."""
    write_documents(wh, _carriers(2_000))
    cfg = DedupConfig(bands=20, rows=1, max_bucket=64, memory_limit="64MB")
    summary, counts = _run(wh, cfg)
    members = counts["dedup.capped_bucket_members"]
    assert counts["dedup.buckets_capped"] >= 15 and members > 20 * 300
    assert summary["raw_pairs"] <= members * SORT_KEYS * NEIGHBOURS + 20 * 2_000 * 64
    assert summary["raw_pairs"] < 1_000_000
    assert summary["duplicates"] == 0
