"""Small synthetic PubMed XML for tests (our own fixtures: the shared samples are never copied)."""

from __future__ import annotations

import gzip
from pathlib import Path

HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n<PubmedArticleSet>\n'
FOOTER = "</PubmedArticleSet>\n"


def article(pmid: str | None, *, version: int = 1, title: str = "A title", abstract: str | None = "Some text.") -> str:
    pmid_el = f'<PMID Version="{version}">{pmid}</PMID>' if pmid is not None else ""
    abstract_el = f"<Abstract><AbstractText>{abstract}</AbstractText></Abstract>" if abstract is not None else ""
    return (
        f'<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM">{pmid_el}'
        f"<Article><Journal><Title>J Test</Title><JournalIssue><PubDate><Year>2020</Year><Month>Mar</Month></PubDate>"
        f"</JournalIssue></Journal><ArticleTitle>{title}</ArticleTitle>{abstract_el}<Language>eng</Language></Article>"
        f'<CommentsCorrectionsList><CommentsCorrections RefType="CommentIn"><PMID Version="1">999</PMID>'
        f"</CommentsCorrections></CommentsCorrectionsList></MedlineCitation>"
        f'<PubmedData><ArticleIdList><ArticleId IdType="pubmed">{pmid}</ArticleId></ArticleIdList></PubmedData>'
        "</PubmedArticle>\n"
    )


def book(pmid: str, title: str = "A chapter", abstract: str = "Chapter text.") -> str:
    return (
        f'<PubmedBookArticle><BookDocument><PMID Version="1">{pmid}</PMID><Book><Publisher><PublisherName>NCBI'
        f"</PublisherName></Publisher><BookTitle>GeneReviews</BookTitle><PubDate><Year>1993</Year></PubDate></Book>"
        f'<ArticleTitle>{title}</ArticleTitle><Language>eng</Language><Abstract><AbstractText Label="SUMMARY">'
        f'{abstract}</AbstractText></Abstract><PublicationType UI="D000000">Review</PublicationType></BookDocument>'
        f'<PubmedBookData><ArticleIdList><ArticleId IdType="bookaccession">NBK1</ArticleId></ArticleIdList>'
        "</PubmedBookData></PubmedBookArticle>\n"
    )


def delete(*pmids: str) -> str:
    return "<DeleteCitation>" + "".join(f'<PMID Version="1">{p}</PMID>' for p in pmids) + "</DeleteCitation>\n"


def xml_bytes(*records: str) -> bytes:
    return (HEADER + "".join(records) + FOOTER).encode("utf-8")


def write(path: Path, data: bytes | str, *, gz: bool | None = None) -> Path:
    """Write bytes (or records joined into a file); gzip when asked or when the name ends in .gz."""
    data = data.encode() if isinstance(data, str) else data
    if gz if gz is not None else path.name.endswith(".gz"):
        data = gzip.compress(data)
    path.write_bytes(data)
    return path
