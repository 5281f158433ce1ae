"""Paragraph units of a JATS article: the `paragraphs` table, Biomed-Enriched's unit of annotation.

Built by the PMC format from the tree it already parsed for the documents row (no second parse): every `<p>` that is
a direct child of the abstract, the body or a `sec` becomes a paragraph with its section title path and its XPath in
the source file, when it has at least `min_tokens` tokens under the chosen tokenizer; shorter ones are counted, not
written. Lists, quotes and boxed text stay in documents.text but are not paragraph units.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lxml import etree
from pydantic import Field, field_validator

from curation.config_base import StrictModel
from curation.errors import IngestConfigError, UserError
from curation.ingest.xmlstream import text_of
from curation.tokens import TokenCounter, check_tokenizer_ref, make_counter

TABLE = "paragraphs"
BELOW_MIN = f"{TABLE}.below_min_tokens"


class ParagraphOptions(StrictModel):
    min_tokens: int = Field(64, ge=1, description="paragraphs with fewer tokens are counted, not written")
    tokenizer: str | None = Field(
        None, description="tiktoken:<encoding>, a Hugging Face tokenizer directory or cached id; default: regex words"
    )

    @field_validator("tokenizer")
    @classmethod
    def _loadable(cls, v: str | None) -> str | None:
        check_tokenizer_ref(v)
        return v


@dataclass(frozen=True)
class Block:
    """A container of running text (abstract, body or sec) with its section title path and kind."""

    label: str | None
    category: str
    element: etree._Element


@dataclass(frozen=True)
class Counter:
    name: str
    count: TokenCounter
    min_tokens: int


def counter(options: ParagraphOptions) -> Counter:
    """The file's token counter (the options validator has already loaded a tiktoken encoding once; should it fail
    now, the file fails as misconfigured)."""
    try:
        name, count = make_counter(options.tokenizer)
    except UserError as e:
        raise IngestConfigError(f"pmc paragraphs.tokenizer: {e}") from None
    return Counter(name, count, options.min_tokens)


def article_path(article: etree._Element, index: int) -> str:
    """The article's XPath in its file: the root, or the index-th article of a pmc-articleset (whose earlier
    articles the streaming reader has already dropped, so it is counted, not looked up)."""
    parent = article.getparent()
    return f"/{article.tag}" if parent is None else f"/{parent.tag}/{article.tag}[{index + 1}]"


def relative_path(elem: etree._Element, article: etree._Element) -> str:
    """The path from the article to `elem` as lxml's getpath spells it: [n] only where same-name siblings exist."""
    steps: list[str] = []
    while elem is not article:
        parent = elem.getparent()
        assert parent is not None, "the element is inside the article"
        same = list(parent.iterchildren(elem.tag))
        steps.append(f"{elem.tag}[{same.index(elem) + 1}]" if len(same) > 1 else str(elem.tag))
        elem = parent
    return "/".join(reversed(steps))


def paragraph_rows(
    doc: dict[str, Any], article: etree._Element, root_path: str, blocks: Iterable[Block], c: Counter
) -> tuple[list[dict[str, Any]], int]:
    """(rows of the paragraphs with at least min_tokens tokens, number of shorter ones) for one article."""
    rows: list[dict[str, Any]] = []
    short = 0
    paras = [(b, p, text) for b in blocks for p in b.element.iterchildren("p") if (text := text_of(p))]
    for index, (block, p, text) in enumerate(paras):
        n = c.count(text)
        if n < c.min_tokens:
            short += 1
            continue
        rel = relative_path(p, article)
        rows.append(
            {
                "paragraph_id": paragraph_id(doc["doc_id"], rel),
                "doc_id": doc["doc_id"],
                "source": doc["source"],
                "section": block.label,
                "section_type": block.category,
                "xml_path": f"{root_path}/{rel}",
                "para_index": index,
                "text": text,
                "n_tokens": n,
                "tokenizer": c.name,
                "license": doc["license"],
                "commercial_use": doc["commercial_use"],
                "record_index": doc["record_index"],
            }
        )
    return rows, short


def paragraph_id(doc_id: str, rel_path: str) -> str:
    """Keyed by the path inside the article, so the same paragraph has the same id in a single-article file and in
    a pmc-articleset, and across re-ingests."""
    return f"{doc_id}#{hashlib.sha256(f'{doc_id}|{rel_path}'.encode()).hexdigest()[:16]}"
