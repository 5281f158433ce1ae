"""Release: guarantees (never an excluded, contaminated, quarantined or mis-licensed row), splits, shards,
manifest.json, card, plots, diff, verify."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from curation.manifest import load_manifest
from curation.release import verify
from curation.release.builder import ReleaseRequest, build_release
from curation.release.card import read_front_matter
from curation.warehouse import connect, start_run
from tests import release_support as rs

pytest_plugins = ["tests.release_support"]  # the release_env / env fixtures


@pytest.fixture
def env(release_env):
    wh, tmp = release_env
    return wh, rs.manifest_yaml(tmp / "m.yaml")


def release(wh, manifest_path: Path, version: str = "1.0.0", **kw) -> Path:
    m = load_manifest(manifest_path)
    req = ReleaseRequest(version=version, out=m.resolve(m.release.out), **kw)
    with start_run(wh, "release") as run:
        return Path(build_release(wh, m, req, run)["path"])


def rows(release_dir: Path, config: str, pattern: str = "*/*.parquet") -> list[dict]:
    files = sorted(str(p) for p in (release_dir / "data" / config).glob(pattern))
    if not files:
        return []
    cur = duckdb.connect().execute(f"SELECT * FROM read_parquet({files})")
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def test_release_contains_exactly_the_selected_rows(env):
    wh, m = env
    d = release(wh, m)
    assert {r["doc_id"] for r in rows(d, "documents")} == rs.RELEASED_DOCS
    assert {r["record_id"] for r in rows(d, "grounded_qa")} == rs.RELEASED_QA


def test_never_a_row_excluded_by_any_rule(env):
    wh, m = env
    d = release(wh, m)
    released = {r["doc_id"] for r in rows(d, "documents")}
    con = connect(wh)
    manifest = json.loads((d / "manifest.json").read_text())
    rules = manifest["configs"]["documents"]["rules"]
    assert [r["name"] for r in rules] == [
        "current_not_deleted",
        "not_quarantined",
        "not_contaminated",
        "not_duplicate",
        "heuristics",
        "educational",
    ]
    for rule in rules:  # each rule on its own: nothing it rejects may be released
        rejected = {
            r[0]
            for r in con.execute(
                f"SELECT doc_id FROM documents_enriched WHERE ({rule['where']}) IS NOT TRUE"
            ).fetchall()
        }
        assert rejected, rule["name"]
        assert not rejected & released, rule["name"]
    assert sum(r["removed"] for r in rules) == 15 - 7
    assert manifest["configs"]["documents"]["rows_in"] == 15
    assert rules[0]["removed"] == 2  # pubmed:5 (superseded by pubmed:5.2) and pubmed:12 (deleted)


def test_never_non_commercial_in_commercial_split(env):
    wh, m = env
    d = release(wh, m)
    licences = {doc_id: rs.LIC[spec[0]][1] for doc_id, spec in rs.DOCS.items()}
    commercial = rows(d, "documents", "commercial/*.parquet")
    assert commercial and all(licences[r["doc_id"]] and r["commercial_use"] for r in commercial)
    nc = rows(d, "documents", "noncommercial/*.parquet")
    assert {r["doc_id"] for r in nc} == {"pubmed:3", "pubmed:4", "pmc:PMC2"}
    qa_commercial = rows(d, "grounded_qa", "commercial/*.parquet")
    assert qa_commercial and all(licences[r["doc_id"]] for r in qa_commercial)
    assert {r["record_id"] for r in rows(d, "grounded_qa", "noncommercial/*.parquet")} == {"qa2"}


def test_never_contaminated_or_quarantined(env):
    wh, m = env
    d = release(wh, m)
    docs = {r["doc_id"] for r in rows(d, "documents")}
    qa = {r["record_id"] for r in rows(d, "grounded_qa")}
    contaminated = {k for k, v in rs.DOCS.items() if v[4] is not False} | {k for k, v in rs.QA.items() if v[1]}
    assert contaminated and not contaminated & (docs | qa)
    assert not rs.QUARANTINED & (docs | qa)


def test_a_synth_quarantine_record_never_drops_a_released_row(env):
    """synth quarantines generations under their input's id (a passage, an item, a paragraph); the input itself is
    fine and stays releasable."""
    from curation.warehouse import Quarantine

    wh, m = env
    kept = {r["doc_id"] for r in rows(release(wh, m, "1.0.0"), "documents")}
    victim = sorted(kept)[0]
    with Quarantine(wh, "synth", rs.RUN.format("synth")) as q:
        q.add("duplicate_input", victim, None, "a generation about this input was rejected")
    assert {r["doc_id"] for r in rows(release(wh, m, "1.1.0"), "documents")} == kept


def test_splits_are_stable_and_shards_named(env):
    wh, m = env
    d1 = release(wh, m, "1.0.0")
    d2 = release(wh, m, "1.1.0")
    split = {
        (r["doc_id"], p.parent.name, p.name.split("-")[0])
        for p in (d1 / "data/documents").rglob("*.parquet")
        for r in rows(d1, "documents", f"{p.parent.name}/{p.name}")
    }
    split2 = {
        (r["doc_id"], p.parent.name, p.name.split("-")[0])
        for p in (d2 / "data/documents").rglob("*.parquet")
        for r in rows(d2, "documents", f"{p.parent.name}/{p.name}")
    }
    assert split == split2
    assert {s for _, _, s in split} == {"train", "validation"}
    names = sorted(p.name for p in (d1 / "data/documents/commercial").glob("train-*.parquet"))
    total = len(names)
    assert total >= 2  # shard_target_rows: 2
    assert names == [f"train-{i:05d}-of-{total:05d}.parquet" for i in range(total)]
    for p in (d1 / "data").rglob("*.parquet"):
        import pyarrow.parquet as pq

        md = pq.ParquetFile(p).metadata
        assert md.num_rows <= 2 and md.row_group(0).column(0).compression == "ZSTD"


def test_manifest_json_and_card(env):
    wh, m = env
    d = release(wh, m)
    man = json.loads((d / "manifest.json").read_text())
    listed = {f["path"] for f in man["files"]}
    on_disk = {p.relative_to(d).as_posix() for p in d.rglob("*") if p.is_file()} - {"manifest.json"}
    assert listed == on_disk and "README.md" in listed
    assert sum(f.get("rows", 0) for f in man["files"]) == man["total_rows"] == 11
    assert [c["name"] for c in man["schema"]["documents"]][:2] == ["doc_id", "source"]
    lin = man["lineage"]
    assert "20260101T000000000000Z-ingest-test" in lin["row_run_ids"]
    assert any(r.endswith("rtest_decontam-test") for r in lin["row_run_ids"])
    assert lin["source_files"] == [{"file": "pmc.xml", "sha256": "0" * 64}, {"file": "pubmed.xml", "sha256": "0" * 64}]
    assert lin["prompts"] == [{"model": "tiny-llm", "prompt_id": "grounded_qa", "prompt_version": "v1"}]
    assert man["manifest_sha256"] == load_manifest(m).sha256 and man["code_version"]
    text = (d / "README.md").read_text()
    meta = read_front_matter(text)
    assert meta["license"] == "other" and "CC-BY-NC-4.0" in meta["license_details"]
    assert meta["task_categories"] == ["question-answering", "text-generation"]
    assert meta["size_categories"] == ["n<1K"]
    names = {c["config_name"] for c in meta["configs"]}
    assert names == {
        "documents-commercial",
        "documents-noncommercial",
        "grounded_qa-commercial",
        "grounded_qa-noncommercial",
    }
    for c in meta["configs"]:
        for f in c["data_files"]:
            assert list(d.glob(f["path"])), f
    assert "| heuristics (built in)" not in text and "| not_contaminated (built in) |" in text
    for p in man["plots"]:
        assert (d / p["path"]).read_bytes()[:4] == b"\x89PNG" and f"]({p['path']})" in text
    plotted = {Path(p["path"]).name for p in man["plots"]}
    assert {"documents_by_source.png", "documents_edu_int.png", "documents_heuristic_pass.png"} <= plotted


def test_diff_against_previous_release(env, wh, tmp_path):
    _, m = env
    d1 = release(wh, m, "1.0.0")
    with (
        start_run(wh, "validate") as run,
        __import__("curation.warehouse", fromlist=["Quarantine"]).Quarantine(wh, "validate", run.run_id) as q,
    ):
        q.add("row_check_failed", "pubmed:2")
    d2 = release(wh, m, "1.1.0")
    man = json.loads((d2 / "manifest.json").read_text())
    assert man["diff"]["previous_version"] == "1.0.0"
    assert man["diff"]["configs"]["documents"] == {
        "added": 0,
        "removed": 1,
        "added_examples": [],
        "removed_examples": ["pubmed:2"],
    }
    assert man["diff"]["configs"]["grounded_qa"]["removed"] == 0
    assert json.loads((d1 / "manifest.json").read_text())["diff"]["previous_version"] is None


def test_verify_passes_fresh_and_fails_on_tampering(env):
    wh, m = env
    d = release(wh, m)
    assert verify.verify(d) == []
    shard = sorted((d / "data/documents/commercial").glob("*.parquet"))[0]
    data = bytearray(shard.read_bytes())
    data[100] ^= 0xFF
    shard.write_bytes(bytes(data))
    problems = verify.verify(d)
    assert problems and shard.relative_to(d).as_posix() in problems[0] and "sha256" in problems[0]


def test_verify_catches_card_counts_and_extra_files(env):
    wh, m = env
    d = release(wh, m)
    man = json.loads((d / "manifest.json").read_text())
    readme = d / "README.md"
    readme.write_text(readme.read_text().replace("num_examples: ", "num_examples: 1", 1))
    for f in man["files"]:  # a forger who also fixes the checksum is still caught by the card check
        if f["path"] == "README.md":
            from curation.warehouse.runs import sha256_file

            f["sha256"], f["bytes"] = sha256_file(readme), readme.stat().st_size
    (d / "manifest.json").write_text(json.dumps(man))
    (d / "data/extra.parquet").write_bytes(b"x")
    problems = verify.verify(d)
    assert any(p.startswith("README.md:") and "in the card" in p for p in problems)
    assert any(p.startswith("data/extra.parquet") for p in problems)
