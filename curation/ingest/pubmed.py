"""PubMed/MEDLINE XML (baseline, update files, efetch output) into `documents`, streamed record by record.

One `PubmedArticle` (or `PubmedBookArticle`) is one row; each PMID in a `DeleteCitation` is one `Deleted`.
The PMID is only ever `MedlineCitation/PMID` (`BookDocument/PMID` for books), never a nested one such as those in
CommentsCorrections. Version N > 1 becomes doc_id `pubmed:PMID.N`; all versions share work_id `pubmed:PMID`, and
the `documents_latest` view decides which occurrence is current (version, then file name, then record_index).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from lxml import etree

from curation.config_base import StrictModel
from curation.ingest.formats import FORMATS, FormatSpec
from curation.ingest.items import Deleted, Item, Record, Rejection, Section
from curation.ingest.xmldates import ymd
from curation.ingest.xmlstream import by_tag, child, children, element_payload, first, iter_records, text_at, text_of

SOURCE = "pubmed"
LICENSE = "NLM-PubMed-terms"
LICENSE_URL = "https://www.nlm.nih.gov/databases/download/terms_and_conditions.html"
# NLM's terms cover the citation data, but abstracts stay under their publishers' copyright: not cleared for
# commercial use unless something else says so (see docs/ingest.md).
COMMERCIAL_USE = False

TAGS = ("PubmedArticle", "PubmedBookArticle", "DeleteCitation")
ROOTS = ("PubmedArticleSet",)  # efetch output and baseline/update files
# Elements never read, blanked before parsing (curation/ingest/xmlblank.py): on the shared 2026 samples 29 % of the
# bytes are ReferenceList, 21 % AuthorList, 5 % History, 3 % InvestigatorList. CommentsCorrectionsList holds the
# nested PMIDs that must never be taken for the record's own.
NOT_READ = (
    "ReferenceList", "AuthorList", "InvestigatorList", "History", "GrantList", "ChemicalList",
    "CommentsCorrectionsList",
)  # fmt: skip

# MEDLINE language codes (ISO 639-2/B) to ISO 639-1; `mul` and `und` map to no language.
LANGS = {
    "eng": "en", "fre": "fr", "ger": "de", "spa": "es", "ita": "it", "jpn": "ja", "rus": "ru", "chi": "zh",
    "por": "pt", "pol": "pl", "dut": "nl", "swe": "sv", "dan": "da", "nor": "no", "fin": "fi", "cze": "cs",
    "hun": "hu", "tur": "tr", "kor": "ko", "heb": "he", "gre": "el", "ara": "ar", "per": "fa", "srp": "sr",
    "hrv": "hr", "slv": "sl", "slo": "sk", "ukr": "uk", "rum": "ro", "bul": "bg", "lit": "lt", "lav": "lv",
    "est": "et", "ice": "is", "ind": "id", "tha": "th", "vie": "vi", "hin": "hi", "urd": "ur", "cat": "ca",
    "afr": "af", "alb": "sq", "arm": "hy", "aze": "az", "ben": "bn", "bos": "bs", "geo": "ka", "mac": "mk",
    "may": "ms", "mao": "mi", "mol": "ro", "pus": "ps", "sin": "si", "swa": "sw", "tgl": "tl", "wel": "cy",
}  # fmt: skip


class Options(StrictModel):
    book_articles: Literal["ingest", "quarantine"] = "ingest"
    """PubmedBookArticle (NCBI Bookshelf chapters): ingest as documents, or quarantine as `book_article`."""


def parse(path: Path, options: Options, split: str | None) -> Iterator[Item]:
    index = 0
    for elem in iter_records(path, TAGS, blank=NOT_READ, roots=ROOTS):
        if isinstance(elem, Rejection):
            yield elem
            return
        ref = f"{path}:{elem.sourceline}"
        if elem.tag == "DeleteCitation":
            for pmid in elem.iterchildren("PMID"):
                pmid_text = (pmid.text or "").strip()
                if pmid_text:
                    yield Deleted(f"{SOURCE}:{pmid_text}", SOURCE, pmid_text, index)
                else:
                    yield Rejection("missing_pmid", ref, element_payload(pmid), "empty PMID in DeleteCitation")
                index += 1
            continue
        if elem.tag == "PubmedBookArticle" and options.book_articles == "quarantine":
            yield Rejection("book_article", ref, element_payload(elem), "book_articles: quarantine")
        else:
            yield _record(elem, ref, index)
        index += 1


def _record(elem: etree._Element, ref: str, index: int) -> Item:
    book = elem.tag == "PubmedBookArticle"
    cit = child(elem, "BookDocument" if book else "MedlineCitation")
    pmid_el = child(cit, "PMID")
    pmid = (pmid_el.text or "").strip() if pmid_el is not None else ""
    if pmid_el is None or not pmid.isdigit():
        return Rejection("missing_pmid", ref, element_payload(elem), f"no usable {elem.tag}/…/PMID ({pmid!r})")
    try:
        version = int(pmid_el.get("Version") or 1)
    except ValueError:
        version = 1
    source_id = pmid if version <= 1 else f"{pmid}.{version}"
    fields = _book_fields(cit, elem) if book else _article_fields(cit, elem)
    sections = _abstract_sections(child(cit, "Abstract") if book else child(cit, "Article", "Abstract"))
    other = None if sections or book else child(cit, "OtherAbstract")
    if other is not None:  # no Abstract, but e.g. a plain-language summary: better than no text at all
        sections = _abstract_sections(other)
    text = "\n\n".join(f"{s['label']}: {s['text']}" if s["label"] else s["text"] for s in sections)
    meta = fields.pop("meta")
    elocation_doi = fields.pop("elocation_doi", None)
    if not sections:
        meta["no_abstract"] = True
    elif other is not None:
        meta["abstract_from"] = f"OtherAbstract Type={other.get('Type')} Language={other.get('Language')}"
    ids = _article_ids(child(elem, "PubmedBookData" if book else "PubmedData", "ArticleIdList"))
    row = {
        "doc_id": f"{SOURCE}:{source_id}",
        "work_id": f"{SOURCE}:{pmid}",
        "source": SOURCE,
        "source_id": source_id,
        "version": version,
        "text": text,
        "sections": sections,
        "license": LICENSE,
        "license_url": LICENSE_URL,
        "commercial_use": COMMERCIAL_USE,
        "pmid": pmid,
        "pmcid": ids.get("pmc"),
        "doi": ids.get("doi") or elocation_doi,
        "url": f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/",
        "record_index": index,
        "source_ref": ref,
        "meta": meta,
        **fields,
    }
    # A citation without an abstract is still a citation: kept with text "" (meta.no_abstract), not quarantined.
    return Record(row, allow_empty=frozenset({"text"}) if not sections else frozenset())


def _article_fields(cit: etree._Element, elem: etree._Element) -> dict[str, Any]:
    c = by_tag(cit)  # one pass over each level's children: cheaper than a lookup per field
    art = first(c, "Article")
    a = by_tag(art) if art is not None else {}
    journal = by_tag(first(a, "Journal"))
    published, precision = _published(a, journal)
    langs = [t.strip() for t in (e.text for e in a.get("Language", ())) if t and t.strip()]
    mesh_detail = [_mesh(h) for h in children(first(c, "MeshHeadingList"), "MeshHeading")]
    meta: dict[str, Any] = {
        "kind": "article",
        "status": cit.get("Status"),
        "owner": cit.get("Owner"),
        "published_precision": precision,
        "date_completed": _iso(ymd(first(c, "DateCompleted"))[0]),
        "date_revised": _iso(ymd(first(c, "DateRevised"))[0]),
        "journal_iso": text_at(first(journal, "ISOAbbreviation")),
        "issn": text_at(first(journal, "ISSN")),
        "languages": langs,
        "mesh_detail": mesh_detail,
        "keywords": [text_of(k) for k in children(first(c, "KeywordList"), "Keyword")],
        "copyright": text_of(child(first(a, "Abstract"), "CopyrightInformation")) or None,
        "publication_status": text_at(elem, "PubmedData", "PublicationStatus"),
    }
    vernacular = text_of(first(a, "VernacularTitle"))
    if vernacular:
        meta["vernacular_title"] = vernacular
    return {
        "title": text_of(first(a, "ArticleTitle")) or vernacular or None,
        "lang": _lang(langs),
        "published": published,
        "journal": text_at(first(journal, "Title")),
        "mesh": [d["name"] for d in mesh_detail],
        "pub_types": [text_of(p) for p in children(first(a, "PublicationTypeList"), "PublicationType")],
        "elocation_doi": _elocation_doi(a.get("ELocationID", ())),
        "meta": meta,
    }


def _book_fields(doc: etree._Element, elem: etree._Element) -> dict[str, Any]:
    book = child(doc, "Book")
    published, precision = ymd(child(book, "PubDate"))
    langs = [t.strip() for t in (e.text for e in doc.iterchildren("Language")) if t and t.strip()]
    return {
        "title": text_of(child(doc, "ArticleTitle")) or text_of(child(book, "BookTitle")) or None,
        "lang": _lang(langs),
        "published": published,
        "journal": None,
        "mesh": [],
        "pub_types": [text_of(p) for p in doc.iterchildren("PublicationType")],
        "meta": {
            "kind": "book",
            "book_title": text_of(child(book, "BookTitle")) or None,
            "publisher": text_of(child(book, "Publisher", "PublisherName")) or None,
            "published_precision": precision,
            "languages": langs,
            "date_revised": _iso(ymd(child(doc, "DateRevised"))[0]),
            "publication_status": text_at(elem, "PubmedBookData", "PublicationStatus"),
        },
    }


def _abstract_sections(abstract: etree._Element | None) -> list[Section]:
    """The AbstractText parts of an Abstract (or OtherAbstract), with their Label and NlmCategory."""
    if abstract is None:
        return []
    out: list[Section] = []
    for a in abstract.iterchildren("AbstractText"):
        text = text_of(a)
        if text:
            out.append({"label": a.get("Label") or None, "category": a.get("NlmCategory") or None, "text": text})
    return out


def _mesh(heading: etree._Element) -> dict[str, Any]:
    """Descriptor and qualifier names carry no markup, so their .text is read directly (a hot path)."""
    out: dict[str, Any] = {"name": "", "ui": None, "major": False, "qualifiers": []}
    for e in heading:
        entry = {"name": (e.text or "").strip(), "ui": e.get("UI"), "major": e.get("MajorTopicYN") == "Y"}
        if e.tag == "DescriptorName":
            out.update(entry)
        elif e.tag == "QualifierName":
            out["qualifiers"].append(entry)
    return out


def _article_ids(id_list: etree._Element | None) -> dict[str, str]:
    """The article's own ids (PubmedData/ArticleIdList), never those of its references."""
    ids: dict[str, str] = {}
    if id_list is not None:
        for a in id_list.iterchildren("ArticleId"):
            kind, value = a.get("IdType"), (a.text or "").strip()
            if kind and value and kind not in ids:
                ids[kind] = value
    if "pmc" in ids and not ids["pmc"].upper().startswith("PMC"):
        ids["pmc"] = f"PMC{ids['pmc']}"
    return ids


def _elocation_doi(elocations: Iterable[etree._Element]) -> str | None:
    for e in elocations:
        if e.get("EIdType") == "doi" and e.text and e.text.strip():
            return e.text.strip()
    return None


def _lang(codes: list[str]) -> str | None:
    for c in codes:
        if c.lower() in LANGS:
            return LANGS[c.lower()]
    return None


def _published(
    article: dict[str, list[etree._Element]], journal: dict[str, list[etree._Element]]
) -> tuple[dt.date | None, str | None]:
    """ArticleDate (electronic publication) first, else the journal issue's PubDate or MedlineDate year."""
    for a in article.get("ArticleDate", ()):
        date, precision = ymd(a)
        if date:
            return date, precision
    pub = child(first(journal, "JournalIssue"), "PubDate")
    date, precision = ymd(pub)
    if date is None and pub is not None:
        m = re.search(r"\b(1[89]\d\d|2\d\d\d)\b", text_at(pub, "MedlineDate") or "")
        if m:
            return dt.date(int(m.group(1)), 1, 1), "year"
    return date, precision


def _iso(date: dt.date | None) -> str | None:
    return date.isoformat() if date else None


CITATION = """@misc{pubmed,
  author       = {{National Library of Medicine}},
  title        = {{MEDLINE/PubMed} citation records},
  howpublished = {\\url{https://pubmed.ncbi.nlm.nih.gov/download/}},
  note         = {Baseline and daily update files}
}"""

FORMATS.register(FormatSpec("pubmed", parse, Options, "documents", citation=CITATION))
