"""KG ingest and path search on the shared Hetionet sample, checked against independent computations (csv module
counts; networkx all_shortest_paths on the same edges)."""

from __future__ import annotations

import csv
import gzip
import random
from collections import Counter

import pytest

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def hetionet(shared_data, tmp_path_factory):
    from curation.kg.graph import KGraph
    from curation.kg.ingest import ingest_kg
    from curation.warehouse import Warehouse

    d = shared_data / "hetionet_kg_sample"
    wh = Warehouse(tmp_path_factory.mktemp("kg") / "warehouse").ensure()
    res = ingest_kg(wh, "hetionet", [d])
    with open(d / "nodes.tsv", newline="") as f:
        nodes = list(csv.DictReader(f, delimiter="\t"))
    with gzip.open(d / "edges-5k.sif.gz", "rt", newline="") as f:
        edges = list(csv.DictReader(f, delimiter="\t"))
    return wh, res, nodes, edges, KGraph.from_warehouse(wh)


def test_counts_per_kind_and_metaedge(hetionet):
    from curation.warehouse import connect

    wh, res, nodes, edges, _ = hetionet
    kinds = Counter(n["kind"] for n in nodes)
    metaedges = Counter(e["metaedge"] for e in edges)
    assert (res.nodes, res.edges) == (47_031, 99_676) == (len(nodes), len(edges))
    assert res.nodes_by_kind == dict(kinds)
    assert res.edges_by_metaedge == dict(metaedges)
    assert (res.quarantined, res.dangling_edges, res.self_loops) == (0, 0, 0)
    con = connect(wh)
    assert dict(con.execute("select kind, count(*) from kg_nodes group by 1").fetchall()) == dict(kinds)
    assert dict(con.execute("select metaedge, count(*) from kg_edges group by 1").fetchall()) == dict(metaedges)
    assert metaedges["CtD"] == 755 and metaedges["DpS"] == 3_357


def test_lineage_and_licences(hetionet, shared_data):
    from curation.warehouse import connect
    from curation.warehouse.runs import load_run, sha256_file

    wh, res, *_ = hetionet
    con = connect(wh)
    sif = shared_data / "hetionet_kg_sample" / "edges-5k.sif.gz"
    row = con.execute(
        "select rel, source_file, source_file_sha256, source_ref, run_id, license, commercial_use, directed "
        "from kg_edges where src = 'Compound::DB00997' and dst = 'Disease::DOID:363'"
    ).fetchone()
    assert row[0] == "treats" and row[1] == str(sif.resolve()) and row[2] == sha256_file(sif)
    assert row[3].startswith(f"{sif.resolve()}:") and row[4] == res.run_id
    assert row[5] == "CC-BY-NC-SA-3.0" and row[6] is False and row[7] is False  # MEDI/PREDICT-derived indications
    lic = dict(con.execute("select metaedge, any_value(license) from kg_edges group by 1").fetchall())
    assert lic["CcSE"] == "CC-BY-NC-SA-4.0" and lic["GpBP"] == "CC-BY-4.0" and lic["DpS"] == "CC0-1.0"
    assert con.execute("select bool_and(directed) from kg_edges where metaedge = 'Gr>G'").fetchone()[0] is True
    run = load_run(wh, res.run_id)
    assert run["status"] == "completed" and {i["sha256"] for i in run["inputs"]} >= {sha256_file(sif)}


def test_rerun_skips_same_inputs(hetionet, shared_data):
    from curation.kg.ingest import ingest_kg

    wh, res, *_ = hetionet
    again = ingest_kg(wh, "hetionet", [shared_data / "hetionet_kg_sample"])
    assert again.status == "skipped" and again.unit == res.unit


def _pairs(edges, nodes, n, seed):
    """Pairs at 1-3 hops (endpoints of edges and of two-edge walks) and random pairs (mostly farther)."""
    rng = random.Random(seed)
    ctd = [e for e in edges if e["metaedge"] in ("CtD", "DpS", "CbG")]
    pairs = [(e["source"], e["target"]) for e in rng.sample(ctd, n)]
    ids = [x["id"] for x in nodes]
    pairs += [(rng.choice(ids), rng.choice(ids)) for _ in range(n)]
    return pairs


def test_shortest_paths_match_networkx(hetionet):
    nx = pytest.importorskip("networkx")
    _, _, nodes, edges, g = hetionet
    ref = nx.Graph()
    ref.add_nodes_from(x["id"] for x in nodes)
    ref.add_edges_from((e["source"], e["target"]) for e in edges)
    rng = random.Random(1)
    # pairs two hops apart through a shared neighbour, to get many equal-length paths
    mids = rng.sample([e["target"] for e in edges if e["metaedge"] == "CtD"], 10)
    two_hop = [tuple(rng.sample(sorted(ref[m]), 2)) for m in mids if len(ref[m]) >= 2]
    checked = Counter()
    for a, b in _pairs(edges, nodes, 15, seed=0) + two_hop:
        got = g.shortest_paths(a, b, max_hops=3, max_paths=100_000)
        try:
            d = nx.shortest_path_length(ref, a, b)
        except nx.NetworkXNoPath:
            d = None
        if d is None or d > 3:
            assert got.status == "no_path" and not got.paths, (a, b, d, got.message)
            checked["none"] += 1
            continue
        expected = {tuple(p) for p in nx.all_shortest_paths(ref, a, b)}
        assert got.status == "found" and got.distance == d
        assert {tuple(p.nodes) for p in got.paths} == expected, (a, b)
        checked[d] += 1
    assert checked[1] and checked[2] and checked["none"], checked


def test_unknown_and_bounded_searches(hetionet):
    _, _, _, _, g = hetionet
    r = g.shortest_paths("Disease::NOPE", "Compound::DB00997")
    assert r.status == "unknown_node" and r.paths == [] and "Disease::NOPE" in r.message
    r = g.shortest_paths("Compound::DB00997", "Disease::DOID:363", max_hops=3, max_paths=100_000, max_scan=1)
    assert r.status == "truncated" and r.truncated and "limit 1 " in r.message
    hub = max(range(g.n_nodes), key=lambda i: g.degree[i])
    nb = g.neighbourhood(g.node_ids[hub], hops=2, max_nodes=50)
    assert nb.truncated and len(nb.nodes) == 50 and "more than 50 nodes" in nb.message
    assert g.neighbourhood("nope").status == "unknown_node"
    r = g.shortest_paths("Disease::DOID:363", "Disease::DOID:363")
    assert r.distance == 0 and r.paths[0].nodes == ["Disease::DOID:363"]


def test_paths_report_relations_and_direction(hetionet):
    _, _, _, _, g = hetionet
    r = g.shortest_paths("Disease::DOID:363", "Compound::DB00997")
    assert r.paths[0].rels == ["<treats"] and r.paths[0].text == "uterine cancer <-treats- Doxorubicin"


def test_chains_are_simple_and_start_rare(hetionet):
    _, _, _, _, g = hetionet
    chains = g.sample_chains(20, min_hops=2, max_hops=4, max_start_degree=3, seed=7)
    assert len(chains) == 20
    for c in chains:
        assert 2 <= c.hops <= 4 and len(set(c.nodes)) == len(c.nodes)
        assert g.degree[g.index[c.nodes[0]]] <= 3
        for u, v, rel in zip(c.nodes, c.nodes[1:], c.rels, strict=False):
            assert rel and g.hop_rels(g.index[u], g.index[v]) == rel
