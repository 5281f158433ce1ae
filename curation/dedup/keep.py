"""Keep policy: which member of a duplicate cluster is kept. Ordered criteria from the manifest, then doc_id, so the
choice is total and deterministic."""

from __future__ import annotations

from collections.abc import Sequence

_ORDER = {
    "is_current": "is_current DESC NULLS LAST",
    "commercial_use": "commercial_use DESC NULLS LAST",
    "longer_text": "text_len DESC",
    "shorter_text": "text_len ASC",
    "newer_published": "published DESC NULLS LAST",
    "older_published": "published ASC NULLS LAST",
    "lowest_doc_id": "doc_id ASC",
}


def order_by(criteria: Sequence[str]) -> str:
    """SQL ORDER BY terms over columns is_current, commercial_use, text_len, published, doc_id."""
    terms = [_ORDER[c] for c in criteria]
    if "doc_id ASC" not in terms:
        terms.append("doc_id ASC")
    return ", ".join(terms)
