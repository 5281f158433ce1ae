"""Entity linking against a small KG with the real offline MiniLM encoder: exact, synonym, embedding (> 0.85),
candidates for a chooser (> 0.7), none; node embeddings cached per KG version."""

from __future__ import annotations

import json

import pytest

NAMES = {
    "D:1": ("myocardial infarction", ["heart attack", "MI"]),
    "C:1": ("aspirin", []),
    "D:2": ("type 2 diabetes mellitus", []),
    "D:3": ("hypertension", []),
    "D:4": ("migraine", []),
    "D:5": ("breast cancer", []),
    "C:2": ("metformin", []),
    "C:3": ("warfarin", []),
}


@pytest.fixture
def kg(wh, tmp_path):
    from curation.kg.ingest import ingest_kg

    p = tmp_path / "kg.jsonl"
    rows = [
        {
            "s": sid,
            "s_name": NAMES[sid][0],
            "s_syn": NAMES[sid][1],
            "p": "related_to",
            "o": oid,
            "o_name": NAMES[oid][0],
        }
        for sid, oid in [("D:1", "C:1"), ("D:2", "C:2"), ("D:3", "C:3"), ("D:4", "C:1"), ("D:5", "C:2")]
    ]
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    fields = {"src": "s", "rel": "p", "dst": "o", "src_name": "s_name", "dst_name": "o_name", "src_synonyms": "s_syn"}
    ingest_kg(wh, "triples", [p], source="toy", options={"fields": fields, "default_kind": "concept"})
    return wh


def test_exact_synonym_embedding_candidates_none(kg):
    from curation.kg.linking import Linker

    linker = Linker(kg)
    got = {x.span: x for x in linker.link_many(
        ["Aspirin", "  heart-attack ", "type II diabetes mellitus", "high blood pressure", "quantum chromodynamics"]
    )}  # fmt: skip
    assert (got["Aspirin"].node_id, got["Aspirin"].method, got["Aspirin"].score) == ("C:1", "exact", 1.0)
    assert (got["  heart-attack "].node_id, got["  heart-attack "].method) == ("D:1", "synonym")
    emb = got["type II diabetes mellitus"]
    assert emb.node_id == "D:2" and emb.method == "embedding" and emb.score > 0.85
    cand = got["high blood pressure"]
    assert cand.node_id is None and cand.method == "candidates" and 0.7 < cand.score <= 0.85
    assert [c.node_id for c in cand.candidates] == ["D:3"]
    none = got["quantum chromodynamics"]
    assert none.node_id is None and none.method == "none" and none.candidates == []


def test_chooser_picks_among_candidates(kg):
    from curation.kg.linking import Linker

    seen = []

    def chooser(span, cands):
        seen.append((span, [c.name for c in cands]))
        return cands[0].node_id

    link = Linker(kg, chooser=chooser).link("high blood pressure")
    assert (link.node_id, link.method) == ("D:3", "model") and seen == [("high blood pressure", ["hypertension"])]
    with pytest.raises(ValueError, match="not one of the candidates"):
        Linker(kg, chooser=lambda s, c: "C:1").link("high blood pressure")
    assert Linker(kg, chooser=lambda s, c: None).link("high blood pressure").method == "none"


def test_kinds_filter_and_embedding_cache(kg, tmp_path):
    from curation.kg.embed import cache_dir
    from curation.kg.ingest import ingest_kg
    from curation.kg.linking import Linker
    from curation.kg.records import write_links
    from curation.warehouse import connect

    first = Linker(kg)
    first.link("cancer of the breast")
    assert first.cache_hit is False and cache_dir(kg, first.embedding_version, first.encoder).is_dir()
    again = Linker(kg)
    link = again.link("cancer of the breast")
    assert again.cache_hit is True and link.node_id == "D:5"
    assert Linker(kg, kinds=["nothing"]).link("aspirin").method == "none"
    write_links(kg, [("q1", link)], unit="t", run_id="r1", kg_version=again.kg_version, encoder=again.encoder)
    row = connect(kg).execute("select node_id, method, candidates[1].name from kg_links").fetchone()
    assert row == ("D:5", "embedding", "breast cancer")
    other = tmp_path / "more.jsonl"
    other.write_text(json.dumps({"src": "X:1", "rel": "r", "dst": "X:2"}) + "\n")
    ingest_kg(kg, "triples", [other], source="more")
    assert Linker(kg).embedding_version != first.embedding_version  # new nodes: their own embeddings


def test_mentions_scan_free_text_for_node_names(kg):
    from curation.kg.linking import Linker

    text = "Does Aspirin prevent a heart-attack in type 2 diabetes mellitus? (not migraines)"
    assert Linker(kg).mentions(text) == ["type 2 diabetes mellitus", "heart attack", "aspirin"]
    assert Linker(kg, kinds=["nothing"]).mentions(text) == []
