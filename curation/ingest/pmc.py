"""PMC Open Access JATS (`.nxml`/`.xml`, possibly gzip) into `documents`: one row per `<article>`.

Usually one article per file; a `pmc-articleset` (efetch output) with several works too, read through the same
streaming reader as PubMed. Text is the abstract and the body: each `sec` becomes one section whose label is the
path of section titles ("Methods > Statistical analysis"); tables, figures, formulas and references are left out
unless the options ask for them. The licence comes from the article's own permissions (see `_license`).

With the `paragraphs` option the same parse also writes the article's paragraphs (curation/ingest/paragraphs.py)
to the `paragraphs` table, in the same unit as its documents row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree

from curation.config_base import StrictModel
from curation.ingest import licenses, paragraphs
from curation.ingest.formats import FORMATS, FormatSpec
from curation.ingest.items import Item, Record, Rejection, Section
from curation.ingest.paragraphs import Block, ParagraphOptions
from curation.ingest.xmldates import ymd
from curation.ingest.xmlstream import element_payload, iter_records, text_of

SOURCE = "pmc"
XLINK = "{http://www.w3.org/1999/xlink}href"
ALI_LICENSE_REF = "{http://www.niso.org/schemas/ali/1.0/}license_ref"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
MATHML = "{http://www.w3.org/1998/Math/MathML}math"
PUB_DATE_ORDER = ("epub", "ppub", "collection", "pmc-release")
TABLES = ("table-wrap", "table-wrap-group")
FIGURES = ("fig", "fig-group")
FORMULAS = ("disp-formula", "inline-formula", MATHML, "tex-math")
ALWAYS_DROPPED = ("graphic", "media", "supplementary-material", "inline-graphic")
RUNNING_TEXT = ("p", "list", "disp-quote", "boxed-text", "def-list")


class Options(StrictModel):
    include_tables: bool = False
    include_figures: bool = False
    include_formulas: bool = False
    include_references: bool = False
    paragraphs: ParagraphOptions | None = None  # set (even to {}) to write the paragraphs table too


def parse(path: Path, options: Options, split: str | None) -> Iterator[Item]:
    counter = paragraphs.counter(options.paragraphs) if options.paragraphs else None
    for index, elem in enumerate(iter_records(path, ("article",), roots=("pmc-articleset",))):
        if isinstance(elem, Rejection):
            yield elem
            return
        yield _record(elem, options, f"{path}:{elem.sourceline}", index, counter)


def _record(
    article: etree._Element, options: Options, ref: str, index: int, counter: paragraphs.Counter | None
) -> Item:
    meta_el = article.find("front/article-meta")
    if meta_el is None:
        return Rejection("missing_field", ref, element_payload(article), "no front/article-meta")
    ids = {a.get("pub-id-type"): (a.text or "").strip() for a in meta_el.iterfind("article-id") if a.text}
    pmcid = _pmcid(ids.get("pmc") or ids.get("pmcid"))
    if not pmcid:
        return Rejection("missing_pmcid", ref, element_payload(article), "no article-id of type pmc")
    lic, lic_source = _license(meta_el)
    extras = _extra_sections(article, options)
    _drop(article, options)
    body = article.find("body")
    blocks = _abstract_blocks(meta_el) + (_blocks(body, None, "body") if body is not None else [])
    sections = [s for s in map(_section, blocks) if s] + extras
    text = "\n\n".join(f"{s['label']}\n{s['text']}" if s["label"] else s["text"] for s in sections)
    published, precision = _published(meta_el)
    journal = article.find("front/journal-meta")
    row: dict[str, Any] = {
        "doc_id": f"{SOURCE}:{pmcid}",
        "work_id": f"{SOURCE}:{pmcid}",
        "source": SOURCE,
        "source_id": pmcid,
        "version": 1,
        "title": text_of(meta_el.find("title-group/article-title")) or None,
        "text": text,
        "sections": sections,
        "lang": (article.get(XML_LANG) or "").lower() or None,
        "license": lic.id,
        "license_url": lic.url,
        "commercial_use": lic.commercial_use,
        "published": published,
        "journal": _journal(journal),
        "pmid": ids.get("pmid") or None,
        "pmcid": pmcid,
        "doi": ids.get("doi") or None,
        "mesh": [],
        "pub_types": [article.get("article-type")] if article.get("article-type") else [],
        "url": f"https://pmc.ncbi.nlm.nih.gov/articles/{pmcid}/",
        "record_index": index,
        "source_ref": ref,
        "meta": {
            "license_source": lic_source,
            "copyright": text_of(meta_el.find("permissions/copyright-statement"))
            or text_of(meta_el.find("copyright-statement"))
            or None,
            "published_precision": precision,
            "keywords": [text_of(k) for k in meta_el.iterfind("kwd-group/kwd")],
            "subjects": [text_of(s) for s in meta_el.iterfind("article-categories//subject")],
            "publisher_id": ids.get("publisher-id"),
        },
    }
    if counter is None:
        return Record(row)
    rows, short = paragraphs.paragraph_rows(row, article, paragraphs.article_path(article, index), blocks, counter)
    return Record(row, children={paragraphs.TABLE: rows}, counts={paragraphs.BELOW_MIN: short})


def _pmcid(value: str | None) -> str | None:
    v = (value or "").strip().upper()
    if not v:
        return None
    return v if v.startswith("PMC") else f"PMC{v}"


def _license(meta_el: etree._Element) -> tuple[licenses.License, str]:
    """ali:license_ref, then license/@xlink:href, then an ext-link in license-p, then license/@license-type, then
    the licence prose and the copyright statement (older PLoS files state CC BY only there)."""
    perms = meta_el.find("permissions")
    holder = perms if perms is not None else meta_el  # JATS 2.x puts copyright-statement in article-meta
    lic = holder.find("license")
    urls = [e.text for e in holder.iter(ALI_LICENSE_REF)]
    texts = [text_of(p) for p in holder.iter("license-p")]
    license_type = None
    if lic is not None:
        urls.append(lic.get(XLINK))
        urls.extend(e.get(XLINK) or e.text for e in lic.iter("ext-link"))
        license_type = lic.get("license-type")
    texts.append(text_of(holder.find("copyright-statement")))
    return licenses.normalize(urls=urls, license_type=license_type, texts=texts)


def _journal(journal_meta: etree._Element | None) -> str | None:
    if journal_meta is None:
        return None
    return (
        text_of(journal_meta.find("journal-title-group/journal-title"))
        or text_of(journal_meta.find("journal-title"))
        or None
    )


def _published(meta_el: etree._Element) -> tuple[dt.date | None, str | None]:
    """The electronic publication date first, then print, collection and PMC release."""
    dates: dict[str | None, etree._Element] = {}
    for d in meta_el.iterfind("pub-date"):
        kind = d.get("pub-type") or d.get("date-type")
        if d.get("publication-format") == "electronic" and kind == "pub":
            kind = "epub"
        dates.setdefault(kind, d)
    for kind in (*PUB_DATE_ORDER, *dates):
        date, precision = ymd(dates.get(kind), ("year", "month", "day"))
        if date:
            return date, precision
    return None, None


def _abstract_blocks(meta_el: etree._Element) -> list[Block]:
    """The main abstract (not teaser or author-summary variants); a structured abstract gives one block per sec."""
    abstracts = list(meta_el.iterfind("abstract"))
    main = next((a for a in abstracts if not a.get("abstract-type")), abstracts[0] if abstracts else None)
    return [] if main is None else _blocks(main, "Abstract", "abstract")


def _blocks(parent: etree._Element, prefix: str | None, category: str) -> list[Block]:
    """`parent`, then each nested sec depth-first, labelled with its path of titles."""
    out = [Block(prefix, category, parent)]
    for sec in parent.iterfind("sec"):
        title = (text_of(sec.find("title")) or text_of(sec.find("label"))).rstrip(":").strip() or None
        label = " > ".join(x for x in (prefix, title) if x) or None
        out.extend(_blocks(sec, label, sec.get("sec-type") or category))
    return out


def _section(block: Block) -> Section | None:
    """A block's running text directly in it (its secs are blocks of their own); None when it has none."""
    paras = [t for c in block.element if c.tag in RUNNING_TEXT and (t := text_of(c))]
    return {"label": block.label, "category": block.category, "text": "\n\n".join(paras)} if paras else None


def _extra_sections(article: etree._Element, options: Options) -> list[Section]:
    """Tables, figures and references as their own sections, when the options ask for them."""
    out: list[Section] = []
    if options.include_tables:
        for t in article.iter("table-wrap"):
            rows = [" | ".join(text_of(c) for c in tr if c.tag in ("td", "th")) for tr in t.iter("tr")]
            caption = text_of(t.find("caption"))
            body = "\n".join(x for x in (caption, *rows) if x)
            out.append({"label": text_of(t.find("label")) or "Table", "category": "table", "text": body})
    if options.include_figures:
        for f in article.iter("fig"):
            out.append(
                {
                    "label": text_of(f.find("label")) or "Figure",
                    "category": "figure",
                    "text": text_of(f.find("caption")),
                }
            )
    if options.include_references:
        refs = [text_of(r) for r in article.iterfind("back/ref-list/ref")]
        if refs:
            out.append({"label": "References", "category": "references", "text": "\n".join(refs)})
    return [s for s in out if s["text"]]


def _drop(article: etree._Element, options: Options) -> None:
    """Remove what is not running text before the text is read; the tail text after a removed element stays."""
    tags = list(ALWAYS_DROPPED) + list(TABLES) + list(FIGURES)
    if not options.include_formulas:
        tags += FORMULAS
    etree.strip_elements(article, *tags, with_tail=False)


CITATION = """@misc{pmc_oa,
  author       = {{National Library of Medicine}},
  title        = {{PubMed Central} Open Access Subset},
  howpublished = {\\url{https://pmc.ncbi.nlm.nih.gov/tools/openftlist/}}
}"""

FORMATS.register(FormatSpec("pmc", parse, Options, "documents", citation=CITATION, also_writes=(paragraphs.TABLE,)))
