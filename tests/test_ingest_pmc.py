"""PMC JATS connector: every shared article's ids and licence, sections, options, and the runner."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import pytest

from curation.ingest import pmc
from curation.ingest.items import Record, Rejection
from curation.ingest.ledger import Ledger
from curation.ingest.runner import IngestJob, ingest_file
from curation.warehouse import connect

# From ../shared/data/pmc_oa_nxml/SOURCE.md, checked against each file's <article-id> and <permissions> by grep.
# (file, pmid, pmcid, doi, licence, commercial_use, where the licence was found)
EXPECTED = [
    ("1471-2180-11-174.nxml", "21810267", "PMC3166277", "10.1186/1471-2180-11-174", "CC-BY-2.0", True, "url"),
    ("ehp-116-1694.nxml", "19079722", "PMC2599765", "10.1289/ehp.11570", "public-domain", True, "url"),
    ("pone.0000217.nxml", "17299597", "PMC1790863", "10.1371/journal.pone.0000217", "CC-BY", True, "text"),
    ("pntd.0002065.nxml", "23469300", "PMC3585041", "10.1371/journal.pntd.0002065", "CC-BY", True, "text"),
    ("mds526.nxml", "23149571", "PMC3574550", "10.1093/annonc/mds526", "CC-BY-NC-3.0", False, "url"),
    ("6605965a.nxml", "21045829", "PMC2994229", "10.1038/sj.bjc.6605965", "unknown", False, "none"),
    ("PMC6398430.nxml", "30846892", "PMC6398430", "10.1093/beheco/ary157", "CC-BY-4.0", True, "url"),
]


def _rows(path: Path, **opts) -> list[dict]:
    items = list(pmc.parse(path, pmc.Options(**opts), None))
    assert all(isinstance(i, Record) for i in items), items
    return [i.row for i in items]


@pytest.fixture(scope="module")
def pmc_dir(shared_data: Path) -> Path:
    return shared_data / "pmc_oa_nxml"


@pytest.mark.shared_data
def test_every_shared_article_ids_and_licence(pmc_dir):
    assert sorted(p.name for p in pmc_dir.glob("*.nxml")) == sorted(e[0] for e in EXPECTED)  # none missed
    for name, pmid, pmcid, doi, license_id, commercial, how in EXPECTED:
        (row,) = _rows(pmc_dir / name)
        got = (
            row["pmid"],
            row["pmcid"],
            row["doi"],
            row["license"],
            row["commercial_use"],
            row["meta"]["license_source"],
        )
        assert got == (pmid, pmcid, doi, license_id, commercial, how), name
        assert row["doc_id"] == row["work_id"] == f"pmc:{pmcid}" and row["source_id"] == pmcid
        assert row["url"] == f"https://pmc.ncbi.nlm.nih.gov/articles/{pmcid}/"
        assert row["title"] and len(row["text"]) > 5000  # all seven carry full-text bodies


@pytest.mark.shared_data
def test_sections_and_metadata(pmc_dir):
    (row,) = _rows(pmc_dir / "1471-2180-11-174.nxml")
    labels = [s["label"] for s in row["sections"]]
    assert labels[:5] == [
        "Abstract > Background",
        "Abstract > Results",
        "Abstract > Conclusions",
        "Background",
        "Results",
    ]
    assert "Results > Effect of allelic variation in holin sequence" in labels  # nested sec flattened with its path
    assert row["journal"] == "BMC Microbiology"
    assert row["published"] == dt.date(2011, 8, 2)  # epub 2 Aug 2011 before the collection year
    assert row["license_url"] == "http://creativecommons.org/licenses/by/2.0"
    assert "Effects of holin allelic sequences on the stochasticity" not in row["text"]  # Table 1 caption
    assert "Microbial cell individuality" not in row["text"]  # reference B1
    (bjc,) = _rows(pmc_dir / "6605965a.nxml")
    assert bjc["meta"]["keywords"] == [
        "oral contraceptives",
        "reproductive history",
        "colorectal cancer",
        "cohort study",
    ]
    assert [s["label"] for s in bjc["sections"]][:5] == [
        "Abstract > Background", "Abstract > Methods", "Abstract > Results", "Abstract > Conclusion", None
    ]  # fmt: skip
    assert bjc["sections"][4]["text"].startswith("Men tend to have a slightly higher incidence of colorectal cancer")
    assert bjc["meta"]["copyright"] == "Copyright © 2010 Cancer Research UK"


@pytest.mark.shared_data
def test_tables_figures_references_on_request(pmc_dir):
    (row,) = _rows(
        pmc_dir / "1471-2180-11-174.nxml", include_tables=True, include_figures=True, include_references=True
    )
    by_cat = {}
    for s in row["sections"]:
        by_cat.setdefault(s["category"], []).append(s)
    assert [s["label"] for s in by_cat["table"]] == ["Table 1", "Table 2", "Table 3"]
    assert by_cat["table"][0]["text"].startswith("Effects of holin allelic sequences on the stochasticity")
    assert [s["label"] for s in by_cat["figure"]] == ["Figure 1", "Figure 2", "Figure 3", "Figure 4"]
    assert "Microbial cell individuality" in by_cat["references"][0]["text"]


def test_pmcid_normalized_and_missing_pmcid_quarantined(tmp_path):
    art = (
        '<article xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:ali="http://www.niso.org/schemas/ali/1.0/">'
        "<front><article-meta>{ids}<title-group><article-title>T</article-title></title-group><permissions>"
        "<ali:free_to_read/><ali:license_ref>https://creativecommons.org/licenses/by-nc-nd/4.0/</ali:license_ref>"
        '<license xlink:href="https://creativecommons.org/licenses/by/4.0/"/></permissions>'
        "<abstract><p>Abstract text.</p></abstract></article-meta></front><body><sec><title>Intro</title>"
        "<p>Body <inline-formula><mml:math xmlns:mml='http://www.w3.org/1998/Math/MathML'><mml:mi>x</mml:mi>"
        "</mml:math></inline-formula>text.</p></sec></body></article>"
    )
    ok = tmp_path / "a.nxml"
    ok.write_text(art.format(ids='<article-id pub-id-type="pmc">123</article-id>'))
    (row,) = _rows(ok)
    assert (row["doc_id"], row["pmcid"]) == ("pmc:PMC123", "PMC123")
    assert (row["license"], row["commercial_use"]) == ("CC-BY-NC-ND-4.0", False)  # ali:license_ref comes first
    assert row["text"] == "Abstract\nAbstract text.\n\nIntro\nBody text."  # formula dropped, tail kept
    packed = tmp_path / "a.nxml.gz"  # gzip is recognized by its magic bytes
    packed.write_bytes(gzip.compress(ok.read_bytes()))
    assert _rows(packed)[0]["text"] == row["text"]
    bad = tmp_path / "b.nxml"
    bad.write_text(art.format(ids='<article-id pub-id-type="pmid">9</article-id>'))
    (item,) = pmc.parse(bad, pmc.Options(), None)
    assert isinstance(item, Rejection) and item.reason == "missing_pmcid"


@pytest.mark.shared_data
def test_runner_and_license_query(wh, pmc_dir):
    for f in sorted(pmc_dir.glob("*.nxml")):
        res = ingest_file(wh, IngestJob(str(f), "pmc", "pmc"), "run-1", Ledger(wh))
        assert (res.status, res.rows, res.quarantined) == ("ingested", 1, 0)
    con = connect(wh)
    got = dict(con.execute("select pmcid, license from documents_current").fetchall())
    assert got == {e[2]: e[4] for e in EXPECTED}
    assert con.execute("select count(*) from documents_current where commercial_use").fetchone()[0] == 5
