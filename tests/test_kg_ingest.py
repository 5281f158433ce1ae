"""KG ingest of small hand-written inputs: bad input (dangling edges, duplicate nodes, self-loops, malformed
lines), PrimeKG and generic triples with a field mapping, reruns, SQL views, release export and the CLI."""

from __future__ import annotations

import gzip
import json

import pytest

METAEDGES = (
    "metaedge\tabbreviation\tedges\tsource_nodes\ttarget_nodes\tunbiased\n"
    "Compound - treats - Disease\tCtD\t755\t387\t77\t0\n"
    "Disease - presents - Symptom\tDpS\t3357\t133\t415\t0\n"
    "Gene > regulates > Gene\tGr>G\t265672\t4634\t7048\t265672\n"
)
NODES = (
    "id\tname\tkind\n"
    "Compound::DB1\taspirin\tCompound\n"
    "Disease::D1\tmigraine\tDisease\n"
    "Symptom::S1\theadache\tSymptom\n"
    "Gene::1\tGENE1\tGene\n"
    "Gene::2\tGENE2\tGene\n"
    "Disease::D1\tmigraine disorder\tDisease\n"  # 7: same id, other name → duplicate_node
    "Compound::DB1\taspirin\tCompound\n"  # 8: exact repeat → merged silently
    "broken line without tabs\n"  # 9: malformed
    "Planet::P1\tMars\tPlanet\n"  # 10: unknown kind
)
EDGES = (
    "source\tmetaedge\ttarget\n"
    "Compound::DB1\tCtD\tDisease::D1\n"
    "Disease::D1\tDpS\tSymptom::S1\n"
    "Gene::1\tGr>G\tGene::2\n"
    "Gene::2\tGr>G\tGene::2\n"  # 5: self-loop, flagged
    "Compound::DB9\tCtD\tDisease::D1\n"  # 6: unknown compound → dangling
    "Compound::DB1\tCtD\tDisease::D1\n"  # 7: duplicate edge
    "Compound::DB1\tXxY\tDisease::D1\n"  # 8: unknown metaedge
    "Compound::DB1\tCtD\n"  # 9: malformed
)


@pytest.fixture
def hetio_dir(tmp_path):
    d = tmp_path / "hetio"
    d.mkdir()
    (d / "metaedges.tsv").write_text(METAEDGES)
    (d / "nodes.tsv").write_text(NODES)
    with gzip.open(d / "edges.sif.gz", "wt") as f:
        f.write(EDGES)
    (d / "SOURCE.md").write_text("not a KG file; ignored inside a directory\n")
    return d


def test_bad_input_is_flagged_or_quarantined(wh, hetio_dir):
    from curation.kg.ingest import ingest_kg
    from curation.warehouse import connect

    r = ingest_kg(wh, "hetionet", [hetio_dir])
    assert (r.nodes, r.edges, r.dangling_edges, r.self_loops) == (5, 5, 1, 1)
    assert r.reasons == {
        "duplicate_node": 1,
        "malformed_line": 2,
        "unknown_kind": 1,
        "duplicate_edge": 1,
        "unknown_metaedge": 1,
    }
    con = connect(wh)
    q = dict(con.execute("select source_ref, reason from quarantine where stage = 'kg_ingest'").fetchall())
    nodes, edges = hetio_dir / "nodes.tsv", hetio_dir / "edges.sif.gz"
    assert q == {
        f"{nodes}:7": "duplicate_node",
        f"{nodes}:9": "malformed_line",
        f"{nodes}:10": "unknown_kind",
        f"{edges}:7": "duplicate_edge",
        f"{edges}:8": "unknown_metaedge",
        f"{edges}:9": "malformed_line",
    }
    detail = con.execute("select detail from quarantine where reason = 'duplicate_node'").fetchone()[0]
    assert "'migraine'" in detail and f"{nodes}:3" in detail
    flags = con.execute("select src, dst, dangling, self_loop, directed from kg_edges order by source_ref").fetchall()
    assert ("Compound::DB9", "Disease::D1", True, False, False) in flags
    assert ("Gene::2", "Gene::2", False, True, True) in flags
    assert con.execute("select name from kg_nodes where node_id = 'Disease::D1'").fetchone()[0] == "migraine"
    run = json.loads((wh.runs_dir / f"{r.run_id}.json").read_text())
    assert run["counts"]["kg.dangling_edges"] == 1 and run["quarantine_reasons"]["duplicate_node"] == 1


def test_views_macro_and_paths(wh, hetio_dir):
    from curation.kg.graph import KGraph
    from curation.kg.ingest import ingest_kg, kg_version
    from curation.kg.records import write_paths
    from curation.kg.views import install_kg_views
    from curation.warehouse import connect

    ingest_kg(wh, "hetionet", [hetio_dir])
    g = KGraph.from_warehouse(wh)
    r = g.shortest_paths("Compound::DB1", "Symptom::S1")
    assert [p.text for p in r.paths] == ["aspirin -treats-> migraine -presents-> headache"]
    assert g.kinds[g.index["Compound::DB9"]] == "unknown"  # dangling endpoint still searchable
    write_paths(wh, [("item-1", p) for p in r.paths], unit="t", run_id="run-1", kg_version=kg_version(wh))
    con = connect(wh)
    install_kg_views(con)
    got = con.execute("select node_id, hops, name from kg_neighbors('Compound::DB1', 2)").fetchall()
    assert got == [("Disease::D1", 1, "migraine"), ("Compound::DB9", 2, None), ("Symptom::S1", 2, "headache")]
    assert con.execute("select count(*) from kg_neighbors('nope', 3)").fetchone()[0] == 0
    lic = con.execute("select license, commercial_use, edges from kg_edge_licenses where metaedge = 'CtD'").fetchall()
    assert lic == [("CC-BY-NC-SA-3.0", False, 2)]
    assert con.execute("select item_id, hops, rels from kg_paths").fetchall() == [("item-1", 2, ["treats", "presents"])]


def test_rerun_and_changed_input(wh, hetio_dir):
    from curation.kg.ingest import ingest_kg

    first = ingest_kg(wh, "hetionet", [hetio_dir])
    assert ingest_kg(wh, "hetionet", [hetio_dir]).status == "skipped"
    (hetio_dir / "nodes.tsv").write_text(NODES + "Gene::3\tGENE3\tGene\n")
    second = ingest_kg(wh, "hetionet", [hetio_dir])
    assert second.nodes == 6 and second.retired_units == [first.unit]
    assert wh.units("kg_nodes") == [second.unit] and wh.units("kg_edges") == [second.unit]


def test_whole_input_errors(wh, hetio_dir, tmp_path):
    from curation.kg.ingest import ingest_kg

    with pytest.raises(ValueError, match="unknown KG format"):
        ingest_kg(wh, "rdf", [hetio_dir])
    with pytest.raises(FileNotFoundError):
        ingest_kg(wh, "hetionet", [tmp_path / "missing"])
    with pytest.raises(ValueError, match="cannot tell what"):
        ingest_kg(wh, "hetionet", [hetio_dir / "nodes.tsv", hetio_dir / "SOURCE.md"])
    with pytest.raises(ValueError, match="unknown fields"):
        ingest_kg(wh, "triples", [hetio_dir / "nodes.tsv"], options={"fields": {"subject": "s"}})
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a PrimeKG CSV"):
        ingest_kg(wh, "primekg", [tmp_path / "x.csv"])
    assert not wh.units("kg_edges")


def test_primekg(wh, tmp_path):
    from curation.kg.ingest import ingest_kg
    from curation.warehouse import connect

    p = tmp_path / "kg.csv"
    p.write_text(
        "relation,display_relation,x_index,x_id,x_type,x_name,x_source,y_index,y_id,y_type,y_name,y_source\n"
        "indication,indication,1,DB00945,drug,Aspirin,DrugBank,2,8019,disease,migraine,MONDO\n"
        'disease_phenotype_positive,phenotype present,2,8019,disease,migraine,MONDO,3,2,effect/phenotype,"Headache, severe",HPO\n'
        "indication,indication,1,DB00945,drug,Aspirin,DrugBank\n"
    )
    r = ingest_kg(wh, "primekg", [p], options={"license": "CC-BY-4.0", "commercial_use": True})
    assert (r.nodes, r.edges, r.reasons) == (3, 2, {"malformed_line": 1})
    con = connect(wh)
    rows = con.execute("select src, rel, dst, metaedge, license from kg_edges order by 1").fetchall()
    assert rows[0] == ("DrugBank:DB00945", "indication", "MONDO:8019", "indication", "CC-BY-4.0")
    assert ("HPO:2", "Headache, severe", "effect/phenotype") in con.execute(
        "select node_id, name, kind from kg_nodes"
    ).fetchall()


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl"])
def test_triples_with_mapping(wh, tmp_path, fmt):
    from curation.kg.ingest import ingest_kg
    from curation.warehouse import connect

    rows = [
        {
            "s": "C1",
            "s_name": "aspirin",
            "p": "treats",
            "o": "D1",
            "o_name": "migraine",
            "pmids": "111|222",
            "conf": "0.9",
            "day": "2020-01-02",
        },
        {
            "s": "C1",
            "s_name": "aspirin",
            "p": "causes",
            "o": "D2",
            "o_name": "bleeding",
            "pmids": "333",
            "conf": "",
            "day": "",
        },
        {"s": "", "s_name": "x", "p": "treats", "o": "D1", "o_name": "migraine", "pmids": "", "conf": "", "day": ""},
        {
            "s": "C2",
            "s_name": "ibuprofen",
            "p": "treats",
            "o": "D1",
            "o_name": "migraine",
            "pmids": "",
            "conf": "high",
            "day": "",
        },
    ]
    p = tmp_path / f"t.{fmt}"
    if fmt == "jsonl":
        rows[0]["pmids"] = ["111", "222"]
        p.write_text("".join(json.dumps(r) + "\n" for r in rows) + "{not json\n")
    else:
        sep = "\t" if fmt == "tsv" else ","
        p.write_text(sep.join(rows[0]) + "\n" + "".join(sep.join(r.values()) + "\n" for r in rows))
    fields = {
        "src": "s",
        "rel": "p",
        "dst": "o",
        "src_name": "s_name",
        "dst_name": "o_name",
        "evidence": "pmids",
        "confidence": "conf",
        "date": "day",
    }
    r = ingest_kg(wh, "triples", [p], source="lit", options={"fields": fields})
    assert (r.nodes, r.edges) == (3, 2)
    assert r.reasons == ({"malformed_line": 2, "invalid_json": 1} if fmt == "jsonl" else {"malformed_line": 2})
    con = connect(wh)
    got = con.execute(
        "select rel, evidence, confidence, first_seen::varchar, last_seen::varchar, source from kg_edges order by rel"
    ).fetchall()
    assert got == [
        ("causes", ["333"], None, None, None, "lit"),
        ("treats", ["111", "222"], 0.9, "2020-01-02", "2020-01-02", "lit"),
    ]


def test_export_release(wh, hetio_dir, tmp_path):
    from curation.kg.ingest import ingest_kg
    from curation.kg.release import export_kg, verify_kg_release

    ingest_kg(wh, "hetionet", [hetio_dir])
    m = export_kg(wh, tmp_path / "rel", name="toy", version="1.0.0")
    d = tmp_path / "rel" / "toy" / "1.0.0"
    assert (m["nodes"], m["edges"], m["non_commercial_edges"]) == (5, 5, 2)
    assert verify_kg_release(d) == []
    assert "CC-BY-NC-SA-3.0" in (d / "LICENSES.md").read_text() and "eLife 2017" in (d / "README.md").read_text()
    com = export_kg(wh, tmp_path / "rel", name="toy", version="1.0.0-commercial", commercial_only=True)
    assert com["edges"] == 1 and "CC-BY-NC-SA-3.0" not in com["licenses"]  # only DpS (CC0) is commercial
    with pytest.raises(ValueError, match="already exists"):
        export_kg(wh, tmp_path / "rel", name="toy", version="1.0.0")
    (d / "edges.parquet").write_bytes(b"tampered")
    assert verify_kg_release(d) == ["sha256 mismatch: edges.parquet"]


def test_cli(wh, hetio_dir, tmp_path):
    import typer
    from typer.testing import CliRunner

    from curation.commands import kg_cmd
    from curation.commands.common import state

    root = typer.Typer()

    @root.callback()
    def _main() -> None:
        state.warehouse = wh

    kg_cmd.register(root)
    run = CliRunner().invoke
    r = run(root, ["kg", "ingest", "--format", "hetionet", str(hetio_dir)])
    assert r.exit_code == 0 and "5 nodes, 5 edges (1 dangling, 1 self-loops), 6 quarantined" in r.output
    r = run(root, ["kg", "paths", "Compound::DB1", "Symptom::S1", "--item-id", "q1"])
    assert r.exit_code == 0 and "aspirin -treats-> migraine -presents-> headache" in r.output
    assert len(wh.files("kg_paths")) == 1
    r = run(root, ["kg", "paths", "Compound::DB1", "Nope::1", "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["status"] == "unknown_node"
    r = run(root, ["kg", "paths", "Nope::2", "Nope::1"])  # between unknown nodes: an empty result, not an error
    assert r.exit_code == 0 and "unknown_node: 0 paths" in r.output and "Nope::2" in r.output
    r = run(root, ["kg", "paths", "Compound::DB1", "Symptom::S1", "--max-scan", "1"])  # too large a search: bounded
    assert r.exit_code == 0 and "truncated: 0 paths" in r.output and "search stopped at 1 hops" in r.output
    r = run(root, ["kg", "neighbors", "Disease::D1", "--hops", "1", "--json"])
    assert sorted(n for n, _ in json.loads(r.output)["nodes"]) == ["Compound::DB1", "Compound::DB9", "Symptom::S1"]
    r = run(root, ["kg", "link", "Migraine", "--json"])
    assert json.loads(r.output)[0]["method"] == "exact"
    r = run(root, ["kg", "ingest", "--format", "hetionet", str(tmp_path / "nope")])
    assert r.exit_code == 2
    r = run(root, ["kg", "export", str(tmp_path / "rel"), "--name", "toy"])
    assert r.exit_code == 0 and "5 nodes, 5 edges (2 non-commercial)" in r.output


def test_endpoints_resolve_against_other_sources(wh, hetio_dir, tmp_path):
    from curation.kg.ingest import ingest_kg

    ingest_kg(wh, "hetionet", [hetio_dir], source="base")
    d = tmp_path / "extra"
    d.mkdir()
    (d / "nodes.tsv").write_text("id\tname\tkind\nGene::3\tGENE3\tGene\n")
    (d / "edges.sif").write_text("source\tmetaedge\ttarget\nGene::3\tGr>G\tGene::1\nGene::3\tGr>G\tGene::404\n")
    r = ingest_kg(wh, "hetionet", [d], source="extra")
    assert (r.edges, r.dangling_edges, r.retired_units) == (2, 1, [])  # Gene::1 is a node of source "base"
