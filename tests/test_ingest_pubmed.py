"""PubMed connector: exact counts over the shared samples, field checks, runner, Prefect flow and the views."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest

from curation.ingest import pubmed
from curation.ingest.items import Deleted, Record, Rejection
from curation.ingest.ledger import Ledger
from curation.ingest.runner import IngestJob, ingest_file
from curation.warehouse import connect
from tests import pubmed_xml as px

# Counted independently of our parser: a Python regex over the decompressed files (zcat), taking each
# <PubmedArticle>…</PubmedArticle> block, its first `<MedlineCitation …><PMID Version="N">` and whether it has an
# <AbstractText> (an empty <AbstractText/> counts as none); DeleteCitation PMIDs by regex inside <DeleteCitation> blocks. Matches SOURCE.md's table.
EXPECTED = {
    "pubmed-29768149.xml": {"pmids": ["29768149"], "deleted": 0, "no_abstract": []},
    "pubmed20n1016_update_sample.xml.gz": {
        "pmids": [
            "10658653",
            "25689118",
            "27789571",
            "29372632",
            "29564732",
            "29742721",
            "30137523",
            "30170222",
            "30332650",
            "30426510",
            "30504845",
            "30530577",
            "30548943",
            "30639169",
            "30642661",
            "30688251",
            "30691369",
            "30893762",
            "30913216",
            "30919488",
            "31063228",
            "31097920",
            "31171885",
            "31175679",
            "31191790",
            "31207565",
        ],
        "deleted": 262,
        "deleted_spot": ["31034065", "31034066", "31845701", "31845705"],
        "no_abstract": ["27789571", "30639169", "30688251"],  # 30688251 has an empty <AbstractText/>
    },
    "pubmed26n1334_sample.xml.gz": {
        "pmids": [
            "41576520",
            "41576697",
            "41578200",
            "41578406",
            "41579752",
            "41580931",
            "41583336",
            "41583864",
            "41584348",
            "41584723",
            "41585099",
            "41585660",
            "41587763",
            "41588158",
            "41590283",
            "41590957",
            "41590990",
            "41593922",
            "41596493",
            "41597459",
            "41598251",
            "41599229",
            "41599792",
            "41600226",
            "41601840",
            "41601995",
            "41602864",
            "41603214",
            "41603352",
            "41605226",
        ],
        "deleted": 0,
        "no_abstract": ["41578200", "41590990", "41605226"],
    },
    "pubmed26n1335_update_sample.xml.gz": {
        "pmids": [
            "26228458",
            "39366958",
            "41026679",
            "41056390",
            "41391582",
            "41407204",
            "41411010",
            "41413049",
            "41447502",
            "41484240",
            "41486382",
            "41491833",
            "41568766",
            "41577379",
            "41590716",
            "41593109",
            "41594546",
            "41594975",
            "41595234",
            "41597283",
            "41600455",
            "41601074",
            "41602756",
            "41604152",
            "41607644",
            "41607682",
            "41608470",
            "41616354",
            "41617358",
            "41618279",
        ],
        "deleted": 6,
        "deleted_spot": ["41456105", "41557076", "41616784", "41618748", "41618749", "41618779"],
        "no_abstract": [],  # 41411010 has no <Abstract>, only an <OtherAbstract> (plain-language summary)
    },
    "test_current_medline.xml.gz": {
        "pmids": ["11446611", "28786991", "2930949", "36400559"],
        "deleted": 0,
        "no_abstract": ["11446611"],
    },
}
TOTAL_ARTICLES = 91  # SOURCE.md: "Total 91 articles / 91 PMIDs"
TOTAL_DELETED = 268  # 262 + 6


def _parse(path: Path, **opts) -> list:
    return list(pubmed.parse(path, pubmed.Options(**opts), None))


@pytest.fixture(scope="module")
def pubmed_dir(shared_data: Path) -> Path:
    return shared_data / "pubmed_xml"


@pytest.mark.shared_data
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shared_file_counts(pubmed_dir, name):
    exp = EXPECTED[name]
    items = _parse(pubmed_dir / name)
    records = [i.row for i in items if isinstance(i, Record)]
    deleted = [i for i in items if isinstance(i, Deleted)]
    assert not [i for i in items if isinstance(i, Rejection)]
    assert sorted(r["pmid"] for r in records) == sorted(exp["pmids"])
    assert all(r["doc_id"] == f"pubmed:{r['pmid']}" and r["version"] == 1 for r in records)  # no Version > 1 here
    assert len(deleted) == exp["deleted"]
    assert set(exp.get("deleted_spot", [])) <= {d.source_id for d in deleted}
    assert all(d.work_id == f"pubmed:{d.source_id}" for d in deleted)
    assert sorted(r["pmid"] for r in records if r["meta"].get("no_abstract")) == sorted(exp["no_abstract"])
    assert all((r["text"] == "") == bool(r["meta"].get("no_abstract")) for r in records)
    assert [r["record_index"] for r in records] == sorted({r["record_index"] for r in records})


@pytest.mark.shared_data
def test_structured_abstract_and_fields(pubmed_dir):
    (row,) = [i.row for i in _parse(pubmed_dir / "pubmed-29768149.xml")]
    assert [s["label"] for s in row["sections"]] == ["BACKGROUND", "METHODS", "RESULTS", "CONCLUSIONS"]
    assert row["text"].startswith("BACKGROUND: In patients with mild asthma")
    assert row["title"] == "Inhaled Combined Budesonide-Formoterol as Needed in Mild Asthma."
    assert row["doi"] == "10.1056/NEJMoa1715274"
    assert row["published"] == dt.date(2018, 5, 17)  # no ArticleDate: PubDate 2018/05/17
    assert row["journal"] == "The New England journal of medicine"
    assert row["lang"] == "en" and row["meta"]["languages"] == ["eng"]
    assert "Asthma" in row["mesh"] and "Randomized Controlled Trial" in row["pub_types"]
    assert row["meta"]["date_completed"] == "2018-05-24" and row["meta"]["date_revised"] == "2022-04-10"
    assert row["license"] == "NLM-PubMed-terms" and row["commercial_use"] is False
    assert row["url"] == "https://pubmed.ncbi.nlm.nih.gov/29768149/"
    assert row["source_ref"].endswith("pubmed-29768149.xml:4")  # <PubmedArticle> is on line 4


@pytest.mark.shared_data
def test_mesh_qualifiers_pmc_id_and_partial_dates(pubmed_dir):
    rows = {i.row["pmid"]: i.row for i in _parse(pubmed_dir / "test_current_medline.xml.gz")}
    lbp = next(d for d in rows["36400559"]["meta"]["mesh_detail"] if d["name"] == "Low Back Pain")
    assert lbp["ui"] == "D017116" and lbp["major"] is True
    assert [q["name"] for q in lbp["qualifiers"]] == ["diagnosis", "etiology", "therapy"]
    assert rows["2930949"]["pmcid"] == "PMC1306303"
    assert rows["2930949"]["published"] == dt.date(1985, 8, 1)  # PubDate 1985 Aug
    assert rows["2930949"]["meta"]["published_precision"] == "month"
    assert rows["11446611"]["text"] == "" and rows["11446611"]["title"] == "Acute back pain."


@pytest.mark.shared_data
def test_other_abstract_is_the_fallback_text(pubmed_dir):
    items = _parse(pubmed_dir / "pubmed26n1335_update_sample.xml.gz")
    rows = {i.row["pmid"]: i.row for i in items if isinstance(i, Record)}
    row = rows["41411010"]
    assert row["text"].startswith("This secret shopper study assesses current capacity to provide abortion care")
    assert row["meta"]["abstract_from"] == "OtherAbstract Type=plain-language-summary Language=eng"


def test_nested_pmids_never_taken_and_versions(tmp_path):
    f = px.write(tmp_path / "v.xml", px.xml_bytes(px.article("123", version=2), px.article("124")))
    rows = [i.row for i in _parse(f)]
    assert [(r["doc_id"], r["work_id"], r["source_id"], r["version"]) for r in rows] == [
        ("pubmed:123.2", "pubmed:123", "123.2", 2),
        ("pubmed:124", "pubmed:124", "124", 1),
    ]
    assert "999" not in {r["pmid"] for r in rows}  # the CommentsCorrections PMID


def test_book_article_ingested_or_quarantined(tmp_path):
    f = px.write(tmp_path / "b.xml", px.xml_bytes(px.book("555"), px.article("556")))
    items = _parse(f)
    book = items[0].row
    assert (book["doc_id"], book["title"], book["meta"]["kind"]) == ("pubmed:555", "A chapter", "book")
    assert book["text"] == "SUMMARY: Chapter text." and book["published"] == dt.date(1993, 1, 1)
    items = _parse(f, book_articles="quarantine")
    assert isinstance(items[0], Rejection) and items[0].reason == "book_article"
    assert "<PubmedBookArticle>" in items[0].payload.decode()
    assert isinstance(items[1], Record)


@pytest.mark.shared_data
def test_runner_ingests_all_samples_and_skips_on_rerun(wh, pubmed_dir):
    files = sorted(pubmed_dir.glob("*.xml*"))
    results = [ingest_file(wh, IngestJob(str(f), "pubmed", "pubmed"), "run-1", Ledger(wh)) for f in files]
    assert [r.status for r in results] == ["ingested"] * 5
    assert sum(r.rows for r in results) == TOTAL_ARTICLES
    assert sum(r.deleted for r in results) == TOTAL_DELETED
    assert sum(r.quarantined for r in results) == 0
    con = connect(wh)
    assert con.execute("select count(distinct pmid) from documents").fetchone()[0] == TOTAL_ARTICLES
    assert con.execute("select count(*) from deletions").fetchone()[0] == TOTAL_DELETED
    assert con.execute("select count(*) from documents_current").fetchone()[0] == TOTAL_ARTICLES  # no overlap
    assert con.execute("select count(*) from documents where text = ''").fetchone()[0] == 7  # 0+3+3+0+1 no_abstract
    meta = json.loads(con.execute("select meta from documents where pmid = '11446611'").fetchone()[0])
    assert meta["no_abstract"] is True
    again = [ingest_file(wh, IngestJob(str(f), "pubmed", "pubmed"), "run-2", Ledger(wh)) for f in files]
    assert [r.status for r in again] == ["skipped"] * 5


def _latest(wh) -> dict[str, tuple]:
    rows = (
        connect(wh)
        .execute("select doc_id, is_current, is_deleted, superseded_by, n_occurrences, title from documents_latest")
        .fetchall()
    )
    return {r[0]: r[1:] for r in rows}


def test_views_versions_files_deletions_and_changed_file(wh, tmp_path):
    """A PMID in two files and in two versions, a deletion in a later file, then a changed file re-ingested."""
    base = px.write(
        tmp_path / "pubmed26n0001.xml.gz",
        px.xml_bytes(px.article("100", title="old"), px.article("200"), px.article("300")),
    )
    update = px.write(
        tmp_path / "pubmed26n0002.xml",
        px.xml_bytes(px.article("100", title="revised"), px.article("100", version=2, title="v2"), px.delete("300")),
    )
    for f in (update, base):  # ingest order must not matter: file order is by file name
        assert ingest_file(wh, IngestJob(str(f), "pubmed", "pubmed"), "run-1", Ledger(wh)).status == "ingested"
    latest = _latest(wh)
    assert latest["pubmed:100"] == (False, False, "pubmed:100.2", 2, "revised")  # occurrence in the later file
    assert latest["pubmed:100.2"] == (True, False, None, 1, "v2")
    assert latest["pubmed:200"][:3] == (True, False, None)
    assert latest["pubmed:300"][:3] == (True, True, None)
    current = {r[0] for r in connect(wh).execute("select doc_id from documents_current").fetchall()}
    assert current == {"pubmed:100.2", "pubmed:200"}

    # unchanged: skipped; changed content at the same path: re-ingested, the old unit retired
    assert ingest_file(wh, IngestJob(str(base), "pubmed", "pubmed"), "run-2", Ledger(wh)).status == "skipped"
    px.write(base, px.xml_bytes(px.article("200"), px.article("400")))
    res = ingest_file(wh, IngestJob(str(base), "pubmed", "pubmed"), "run-3", Ledger(wh))
    assert res.status == "ingested" and len(res.retired_units) == 1
    latest = _latest(wh)
    assert "pubmed:400" in latest
    assert "pubmed:300" not in latest  # only the old version of the base file had it
    assert latest["pubmed:100"][3] == 1  # its occurrence in the old base file went with the retired unit
    counts = Counter(r[0] for r in connect(wh).execute("select source_file from documents").fetchall())
    assert counts == {str(base.resolve()): 2, str(update.resolve()): 2}


@pytest.mark.shared_data
def test_prefect_flow_ingests_pubmed_and_pmc(wh, shared_data, prefect_harness):
    from curation.flows.stages import stage_flow

    manifest = wh.root.parent / "m.yaml"
    manifest.write_text(
        "name: m\nsources:\n"
        f"  - {{name: pubmed, format: pubmed, paths: ['{shared_data}/pubmed_xml/*.xml*']}}\n"
        f"  - {{name: pmc, format: pmc, paths: ['{shared_data}/pmc_oa_nxml/*.nxml']}}\n"
    )
    summary = stage_flow("ingest")(manifest_path=str(manifest), warehouse=str(wh.root))
    assert summary["files_ingested"] == 12 and summary["files_failed"] == 0
    assert summary["rows"] == TOTAL_ARTICLES + 7
    assert summary["deleted"] == TOTAL_DELETED and summary["quarantined"] == 0
    con = connect(wh)
    assert con.execute("select source, count(*) from documents_current group by 1 order by 1").fetchall() == [
        ("pmc", 7),
        ("pubmed", TOTAL_ARTICLES),
    ]
    again = stage_flow("ingest")(manifest_path=str(manifest), warehouse=str(wh.root))
    assert again["files_skipped"] == 12 and again["rows"] == 0
