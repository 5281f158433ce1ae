"""Deterministic recipe steps (curation/synth/recipe/steps.py, curation/kg/steps.py) in a synth run without any
model: a toy KG ingested by a step, entity strings linked, paths per item (no path → quarantine no_kg_path),
chains, triples merged day by day (a later run folds only the new days), reruns skipped, and manifest check
errors for bad options and SQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from curation.errors import UserError
from curation.manifest import load_manifest
from curation.orchestrate.runner import run_stage
from curation.warehouse import connect

KG = [  # (src, src name, dst, dst name); every node a concept
    ("D:1", "myocardial infarction", "C:1", "aspirin"),
    ("D:4", "migraine", "C:1", "aspirin"),
    ("D:2", "type 2 diabetes mellitus", "C:2", "metformin"),
    ("D:5", "breast cancer", "C:2", "metformin"),
    ("D:3", "hypertension", "C:3", "warfarin"),
]
ITEMS = (
    "SELECT * FROM (VALUES ('q1', ['aspirin'], ['myocardial infarction']), ('q2', ['Migraine'], ['aspirin', 'nope']),"
    " ('q3', []::VARCHAR[], ['metformin']), ('q4', ['quantum chromodynamics'], ['warfarin']),"
    " ('q5', ['zzz qqq'], []::VARCHAR[]), ('q6', []::VARCHAR[], []::VARCHAR[])) t(item_id, q, a)"
)
PATHS = (
    "SELECT item_id, list(node_id) FILTER (WHERE role = 'q') AS s, list(node_id) FILTER (WHERE role = 'a') AS t "
    "FROM kg_links WHERE node_id IS NOT NULL GROUP BY item_id"
)


def triples_sql(days: list[tuple]) -> str:
    rows = ", ".join(
        f"('{i}', '{s}', 'treats', '{d}', '{s}', '{d}', '{pmid}', DATE '{day}', {a})"
        for i, (s, d, pmid, day, a) in enumerate(days)
    )
    return f"SELECT * FROM (VALUES {rows}) t(rid, src, rel, dst, src_name, dst_name, pmid, published, agreement)"


DAY1 = [("C:1", "D:1", "11", "2020-01-01", 0.5), ("C:9", "D:9", "11", "2020-01-01", 1.0)]
DAY2 = [("C:1", "D:1", "12", "2020-01-02", 0.5), ("C:2", "C:2", "12", "2020-01-02", 1.0)]
DAY3 = [("C:1", "D:1", "13", "2020-01-05", 0.6), ("C:3", "D:3", "13", "2020-01-05", 0.3), ("C:3", "D:3", "", None, 1)]


def manifest(tmp: Path, merge_rows: list[tuple], **steps) -> Path:
    kg = tmp / "kg.jsonl"
    kg.write_text(
        "".join(json.dumps({"s": s, "sn": sn, "o": o, "on": on, "p": "treats"}) + "\n" for s, sn, o, on in KG)
    )
    fields = {"src": "s", "rel": "p", "dst": "o", "src_name": "sn", "dst_name": "on"}
    define = {
        "kg": {
            "step": "kg_ingest",
            "options": {"format": "triples", "paths": ["kg.jsonl"], "source": "toy", "options": {"fields": fields}},
        },
        "links": {
            "step": "kg_link",
            "after": ["kg"],
            "input": {"sql": ITEMS, "id": "item_id"},
            "options": {"columns": ["q", "a"], "sources": ["toy"]},
        },
        "paths": {
            "step": "kg_paths",
            "input": {"sql": PATHS, "id": "item_id"},
            "options": {"starts": "s", "ends": "t", "sources": ["toy"]},
        },
        "chains": {
            "step": "kg_chains",
            "after": ["kg"],
            "options": {"n": 3, "min_hops": 2, "max_hops": 3, "sources": ["toy"]},
        },
        "merge": {
            "step": "kg_merge",
            "after": ["paths", "chains"],  # the paths and chains above see the toy KG only
            "input": {"sql": triples_sql(merge_rows).replace("DATE 'None'", "NULL"), "id": "rid"},
            "options": {"source": "extracted", "license": "NLM-PubMed-terms"},
        },
    }
    for name, spec in steps.items():
        define[name] = {**define[name], **spec} if spec else None
    spec = {"name": "steps", "stages": ["synth"], "synth": {"define": {k: v for k, v in define.items() if v}}}
    path = tmp / "m.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def synth(wh, path: Path) -> dict:
    return run_stage("synth", wh, load_manifest(path), {}).summary["tasks"]


def quarantine(wh, task: str) -> dict[str, int]:
    sql = "select reason, count(*) from quarantine where stage = 'synth' and split_part(unit, '-', 2) = ? group by 1"
    return dict(connect(wh).execute(sql, [task]).fetchall())


def test_steps_link_paths_chains_merge_and_rerun(wh, tmp_path):
    path = manifest(tmp_path, DAY1 + DAY2)
    tasks = synth(wh, path)
    order = list(tasks)
    assert order[0] == "kg" and order.index("links") < order.index("paths"), order
    con = connect(wh)
    links = {
        (i, s): (n, m) for i, s, n, m in con.execute("select item_id, span, node_id, method from kg_links").fetchall()
    }
    assert links[("q1", "aspirin")] == ("C:1", "exact") and links[("q2", "Migraine")] == ("D:4", "exact")
    assert links[("q2", "nope")][0] is None
    assert quarantine(wh, "links") == {"no_kg_link": 1, "no_entities": 1}  # q5, q6
    paths = con.execute("select item_id, hops, text, rank from kg_paths order by item_id, start, rank").fetchall()
    assert ("q1", 1, "aspirin <-treats- myocardial infarction", 0) in paths  # the toy KG stores D treats C
    assert ("q2", 2, "migraine -treats-> aspirin <-treats- myocardial infarction", 0) not in paths  # aspirin is 1 hop
    assert ("q2", 1, "migraine -treats-> aspirin", 0) in paths
    assert quarantine(wh, "paths") == {"no_kg_path": 2}  # q3 has no question entity, q4's is not linked
    chains = con.execute("select hops, len(nodes), names[-1] = end_name from kg_chains").fetchall()
    assert chains and all(2 <= h <= 3 and n == h + 1 and last for h, n, last in chains)
    edge = con.execute(
        "select evidence, confidence, first_seen::varchar, last_seen::varchar, license from kg_edges "
        "where source = 'extracted' and src = 'C:1'"
    ).fetchone()
    assert edge == (["11", "12"], pytest.approx(0.75), "2020-01-01", "2020-01-02", "NLM-PubMed-terms")
    assert con.execute("select node_id, kind from kg_nodes where source = 'extracted'").fetchall() == [
        ("C:9", "entity"),
        ("D:9", "entity"),
    ]  # C:1 and D:1 are the toy KG's; C:9 / D:9 are new
    assert quarantine(wh, "merge") == {"self_loop": 1}
    assert tasks["merge"]["merge.rebuilt"] == 1 and tasks["merge"]["units"] == 2

    again = synth(wh, path)  # unchanged input: every unit skipped, nothing merged again
    assert all(t["units_fresh"] == 0 for t in again.values()), again
    assert again["merge"]["merge.unchanged"] == 1

    later = synth(wh, manifest(tmp_path, DAY1 + DAY2 + DAY3))  # a later day: only it is folded in
    assert later["merge"]["units_skipped"] == 2 and later["merge"]["merge.incremental"] == 1
    edge = con.execute(
        "select evidence, confidence, first_seen::varchar, last_seen::varchar from kg_edges "
        "where source = 'extracted' and src = 'C:1'"
    ).fetchone()
    assert edge == (["11", "12", "13"], pytest.approx(1 - 0.5 * 0.5 * 0.4), "2020-01-01", "2020-01-05")
    assert quarantine(wh, "merge") == {"self_loop": 1, "no_date": 1}

    changed = [("C:1", "D:1", "11", "2020-01-01", 0.9), *DAY1[1:]]  # an old day changed: rebuilt from all days
    redone = synth(wh, manifest(tmp_path, changed + DAY2 + DAY3))
    assert redone["merge"]["merge.rebuilt"] == 1 and redone["merge"]["units_stale"] == 1
    conf = con.execute("select confidence from kg_edges where source = 'extracted' and src = 'C:1'").fetchone()[0]
    assert conf == pytest.approx(1 - 0.1 * 0.5 * 0.4)


def test_path_step_unknown_nodes_and_bounded_search(wh, tmp_path):
    """Unknown nodes and a search cut by its bound give no paths and a no_kg_path quarantine saying why; the run
    goes on."""
    sql = "SELECT * FROM (VALUES ('u1', ['Nope:1'], ['C:1']), ('u2', ['D:1'], ['D:4'])) v(item_id, s, t)"
    paths = {"input": {"sql": sql, "id": "item_id"}, "options": {"starts": "s", "ends": "t", "max_scan": 1}}
    tasks = synth(wh, manifest(tmp_path, DAY1, links={}, chains={}, merge={}, paths=paths))
    assert tasks["paths"]["pairs.unknown_node"] == 1 and tasks["paths"]["pairs.truncated"] == 1
    got = dict(connect(wh).execute("select source_ref, detail from quarantine where reason = 'no_kg_path'").fetchall())
    assert "Nope:1" in got["u1"] and "limit 1 " in got["u2"], got


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"paths": {"options": {"starts": "nope", "ends": "t"}}}, "synth.define.paths: options read input columns"),
        ({"paths": {"input": {"sql": "SELECT * FROM nowhere", "id": "x"}}}, "synth.define.paths.input.sql"),
        ({"chains": {"options": {"n": 1, "min_hops": 4, "max_hops": 2}}}, "min_hops 4 > max_hops 2"),
        ({"kg": {"options": {"format": "csvish", "paths": ["x"]}}}, "unknown KG format 'csvish'"),
        ({"links": {"step": "kg_lnk"}}, "unknown step 'kg_lnk'"),
        ({"chains": {"input": {"sql": "SELECT 1 AS x", "id": "x"}}}, "step kg_chains takes no input"),
        ({"links": {"model": "chooser"}}, "synth.define.links.model: 'chooser' is not in models"),
    ],
)
def test_manifest_check_names_bad_steps(tmp_path, change, message):
    from curation.stages import STAGES

    with pytest.raises((UserError, ValueError), match=message.replace("(", r"\(")):
        m = load_manifest(manifest(tmp_path, DAY1, **change))
        STAGES.get("synth").check_manifest(m)
