"""The warehouse dedup stage: exact and near clusters, incremental runs, determinism, keep policy, bad input,
explain, and the columns in documents_enriched."""

from __future__ import annotations

import random

import pytest

from curation.dedup.config import DedupConfig
from curation.dedup.explain import explain
from curation.dedup.stage import run_dedup
from curation.errors import UserError
from curation.warehouse import connect, start_run
from tests.factories import doc_row, write_documents

RNG = random.Random(11)
BASE = [" ".join(f"w{RNG.randint(0, 20000)}" for _ in range(120)) for _ in range(40)]


def _edit(text: str, n: int) -> str:
    words = text.split()
    for k in range(n):
        words[10 + 7 * k] = f"edit{k}"
    return " ".join(words)


def _corpus() -> list[dict]:
    rows = [doc_row(f"pubmed:{1000 + i}", t, title=f"Study {i}") for i, t in enumerate(BASE)]
    rows += [
        doc_row("pubmed:2000", BASE[0].replace("w", "W"), title="study 0"),  # exact after normalization
        doc_row("pubmed:2001", _edit(BASE[1], 2), title="Study 1"),  # near
        doc_row("pubmed:2002", _edit(BASE[2], 1), title="Study 2", commercial_use=False),  # near, non-commercial
        doc_row("pubmed:2003", "", title=""),  # empty
        doc_row("pubmed:2004", "Too short.", title=""),  # exact only
        doc_row("pubmed:2005", "Too short!", title=""),  # exact duplicate of 2004
    ]
    return rows


def _run(wh, cfg=None):
    with start_run(wh, "dedup") as run:
        return run_dedup(wh, cfg or DedupConfig(), run)


def _annotations(wh) -> dict[str, tuple]:
    rows = (
        connect(wh)
        .execute(
            "SELECT doc_id, dup_cluster_id, cluster_size, is_duplicate, dup_of, dup_reason, dup_status FROM "
            "annotations_dedup ORDER BY doc_id"
        )
        .fetchall()
    )
    return {r[0]: r[1:] for r in rows}


def test_exact_near_and_bad_input(wh):
    write_documents(wh, _corpus())
    s = _run(wh)
    a = _annotations(wh)
    assert len(a) == 46
    assert a["pubmed:2000"] == ("pubmed:1000", 2, True, "pubmed:1000", "exact", "ok")
    assert a["pubmed:1000"] == ("pubmed:1000", 2, False, None, None, "ok")
    assert a["pubmed:2001"][:5] == ("pubmed:1001", 2, True, "pubmed:1001", "near")
    # longer text is kept for 2001 vs 1001? both same length policy falls to doc_id; 2002 loses on commercial_use
    assert a["pubmed:2002"][2:4] == (True, "pubmed:1002")
    assert a["pubmed:2003"] == ("pubmed:2003", 1, False, None, None, "empty")
    assert a["pubmed:2005"] == ("pubmed:2004", 2, True, "pubmed:2004", "exact", "short")
    assert a["pubmed:1005"] == ("pubmed:1005", 1, False, None, None, "ok")
    assert s["duplicates"] == 4
    con = connect(wh)
    assert con.execute("SELECT count(*) FROM documents_enriched WHERE is_duplicate").fetchone()[0] == 4
    assert con.execute("SELECT reason, count(*) FROM quarantine GROUP BY 1").fetchall() == [("empty_text", 1)]
    sim = con.execute("SELECT max_similarity FROM annotations_dedup WHERE doc_id = 'pubmed:2001'").fetchone()[0]
    assert 0.7 <= sim < 1.0


def test_rerun_is_a_noop_and_incremental_equals_batch(wh, tmp_path):
    from curation.warehouse import Warehouse

    rows = _corpus()
    write_documents(wh, rows[:30] + rows[40:43], unit="a")
    _run(wh)
    write_documents(wh, rows[30:40] + rows[43:], unit="b")
    s2 = _run(wh)
    assert s2["signed"] == len(rows) - 33  # only the new documents were signed
    again = _run(wh)
    assert again.get("signed", 0) == 0 and again["annotations_written"] == 0
    batch = Warehouse(tmp_path / "batch").ensure()
    write_documents(batch, rows)
    _run(batch)
    assert _annotations(wh) == _annotations(batch)


def test_signing_on_worker_processes_equals_in_process(wh, tmp_path):
    """Several batches pending: the signatures are computed on a process pool (auto), with the same result as one
    in-process batch, bit for bit."""
    from curation.warehouse import Warehouse

    rows = _corpus()
    write_documents(wh, rows)
    with start_run(wh, "dedup") as run:
        run_dedup(wh, DedupConfig(batch_size=10), run)
        assert run.snapshot()["extra"]["sign_processes"] == 2
    single = Warehouse(tmp_path / "single").ensure()
    write_documents(single, rows)
    with start_run(single, "dedup") as run:
        run_dedup(single, DedupConfig(batch_size=1000), run)
        assert run.snapshot()["extra"]["sign_processes"] == 0
    assert _annotations(wh) == _annotations(single)
    sigs = "SELECT doc_id, exact_hash, status, signature FROM dedup_signatures ORDER BY doc_id"
    assert connect(wh).execute(sigs).fetchall() == connect(single).execute(sigs).fetchall()


def test_revised_and_superseded_documents(wh):
    write_documents(wh, _corpus())
    _run(wh)
    # an update file re-issues pubmed:1003 as version 2 (pubmed:1003.2) with a near-identical text
    v2 = doc_row(
        "pubmed:1003.2",
        _edit(BASE[3], 1),
        title="Study 3",
        work_id="pubmed:1003",
        version=2,
        source_file="/data/pubmed_update_2.xml",
        commercial_use=False,
    )
    write_documents(wh, [v2], unit="update")
    _run(wh)
    a = _annotations(wh)
    # the current version is kept although its licence ranks lower: is_current comes first in the policy
    assert a["pubmed:1003"][2:4] == (True, "pubmed:1003.2")
    assert a["pubmed:1003.2"][2] is False
    # a revised text for an existing doc_id is signed again and leaves its old cluster
    revised = doc_row("pubmed:2001", BASE[5], title="Study 5", source_file="/data/pubmed_update_3.xml")
    write_documents(wh, [revised], unit="update3")
    s = _run(wh)
    assert s["signed"] == 1
    a = _annotations(wh)
    assert a["pubmed:1001"][1] == 1
    assert a["pubmed:2001"][:2] == ("pubmed:1005", 2)


def test_keep_policy_is_configurable(wh):
    rows = [
        doc_row("pmc:1", BASE[0], title="A", commercial_use=False),
        doc_row("pmc:2", BASE[0] + " with a longer tail of words", title="A", commercial_use=True),
    ]
    write_documents(wh, rows)
    _run(wh)
    assert _annotations(wh)["pmc:1"][3] == "pmc:2"  # commercial use, then longer text
    cfg = DedupConfig(keep=["shorter_text"])
    _run(wh, cfg)
    assert _annotations(wh)["pmc:2"][3] == "pmc:1"


def test_params_change_rebuilds(wh):
    write_documents(wh, _corpus())
    _run(wh)
    s = _run(wh, DedupConfig(shingle={"n": 3}))
    assert s["signed"] == 46
    assert _annotations(wh)["pubmed:2001"][2] is True


def test_explain(wh):
    write_documents(wh, _corpus())
    _run(wh)
    r = explain(wh, "pubmed:2001", DedupConfig())
    assert r["kept"] == "pubmed:1001" and r["cluster_size"] == 2
    (pair,) = r["pairs"]
    assert 0.7 < pair["exact"] < 1.0 and abs(pair["estimated"] - pair["exact"]) < 0.15
    with pytest.raises(UserError):
        explain(wh, "pubmed:nope", DedupConfig())


def test_deleted_documents_are_skipped(wh):
    from curation.warehouse import ShardWriter

    write_documents(wh, _corpus())
    with ShardWriter(wh, "deletions", "del") as w:
        w.write(
            {
                "work_id": "pubmed:1000",
                "source": "pubmed",
                "source_id": "1000",
                "record_index": 0,
                "source_file": "/data/pubmed_update_9.xml",
                "source_file_sha256": "0" * 64,
                "run_id": "r",
            }
        )
    _run(wh)
    a = _annotations(wh)
    assert a["pubmed:1000"] == ("pubmed:1000", 1, False, None, None, "deleted")
    assert a["pubmed:2000"][1:3] == (1, False)


def test_exact_verification_and_char_shingles_for_chinese(wh):
    zh = "急性髓系白血病是一种骨髓造血干细胞的恶性克隆性疾病常见于成年人预后较差需要及时治疗和长期随访观察"
    rows = [
        doc_row("pmc:1", zh, title=""),
        doc_row("pmc:2", zh.replace("较差", "不好"), title=""),
        doc_row("pmc:3", BASE[9], title=""),
    ]
    write_documents(wh, rows)
    s = _run(wh, DedupConfig(verify="exact", threshold=0.6, shingle={"kind": "char", "n": 3}))
    assert s["duplicates"] == 1
    con = connect(wh)
    sim, est = con.execute("SELECT similarity, estimated FROM dedup_edges").fetchone()
    assert 0.6 <= sim < 1.0 and sim != est  # exact Jaccard recorded, the estimate beside it


def test_edge_estimate_equals_datasketch_jaccard_of_stored_signatures(wh):
    """The estimate is computed in DuckDB (no signature reaches Python): it must equal datasketch's jaccard."""
    from datasketch import MinHash

    rows = [doc_row(f"pubmed:{i}", BASE[i], title="") for i in range(3)]
    rows += [doc_row(f"pubmed:{10 + i}", _edit(BASE[i], 3 * i + 1), title="") for i in range(3)]
    write_documents(wh, rows)
    _run(wh)
    con = connect(wh)
    edges = con.execute(
        "SELECT e.estimated, a.signature, b.signature FROM dedup_edges e "
        "JOIN dedup_signatures a ON a.doc_id = e.doc_a JOIN dedup_signatures b ON b.doc_id = e.doc_b"
    ).fetchall()
    assert len(edges) == 3
    for est, sig_a, sig_b in edges:
        ma, mb = (MinHash(num_perm=128, seed=1, hashvalues=s, scheme="affine32") for s in (sig_a, sig_b))
        assert est == ma.jaccard(mb) and est < 1.0
