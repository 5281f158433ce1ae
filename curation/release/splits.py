"""Split assignment as SQL expressions, so it runs inside DuckDB over any number of rows.

Licence bucket: a row is `commercial` only if `commercial_use IS TRUE`; unknown (NULL) licence status is treated as
non-commercial, so a missing annotation can never leak a row into the commercial split.
Train/validation: a fixed hash (md5) of the split key (doc_id where the source has one, so every synthetic record
from one document lands in the same split as the document; else item_id, so every sample generated for one benchmark
item stays in one split). md5 does not change across DuckDB versions, unlike
hash(), so a document stays in its split from one release to the next.
"""

from __future__ import annotations

BUCKETS = ("commercial", "noncommercial")
SPLITS = ("train", "validation")
_HASH_SPACE = 1_000_000


def bucket_sql(columns: set[str]) -> str:
    if "commercial_use" not in columns:
        return "'noncommercial'"
    return "CASE WHEN commercial_use IS TRUE THEN 'commercial' ELSE 'noncommercial' END"


def split_sql(split_key: str, validation_fraction: float) -> str:
    threshold = round(validation_fraction * _HASH_SPACE)
    return (
        f'CASE WHEN md5_number(CAST("{split_key}" AS VARCHAR)) % {_HASH_SPACE} < {threshold} '
        "THEN 'validation' ELSE 'train' END"
    )


SPLIT_KEYS = ("doc_id", "item_id")


def split_key(columns: set[str], key: str, configured: str | None = None) -> str:
    """The configured column, else the first of SPLIT_KEYS the source has, else the row key."""
    if configured:
        return configured
    return next((k for k in SPLIT_KEYS if k in columns), key)
