"""Passages: documents cut on sentence boundaries into chunks of at most `max_tokens` tokens (MIRIAD used <= 1000),
taken only from documents that pass the manifest's filters."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import duckdb

from curation.errors import UserError
from curation.synth.config import PassageConfig
from curation.tokens import TokenCounter
from curation.tokens import make_counter as make_counter  # the counter factory lives in curation.tokens
from curation.tokens import regex_counter as regex_counter
from curation.warehouse import Quarantine, ShardWriter, Warehouse, connect
from curation.warehouse.catalog import absent_enriched_columns

STAGE = "synth"
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])|\n\s*\n")


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def _split_long(sentence: str, max_tokens: int, count: TokenCounter) -> Iterator[tuple[str, int]]:
    """A sentence longer than the limit (tables, lists) is cut at word boundaries."""
    words = sentence.split()
    cur: list[str] = []
    for w in words:
        if cur and count(" ".join([*cur, w])) > max_tokens:
            piece = " ".join(cur)
            yield piece, count(piece)
            cur = []
        cur.append(w)
    if cur:
        piece = " ".join(cur)
        yield piece, count(piece)


def chunk_text(text: str, max_tokens: int, count: TokenCounter) -> list[tuple[str, int]]:
    """Greedy packing of whole sentences into chunks of <= max_tokens tokens: [(text, n_tokens)]."""
    chunks: list[tuple[str, int]] = []
    cur: list[str] = []
    cur_n = 0
    for sent in split_sentences(text):
        n = count(sent)
        pieces = [(sent, n)] if n <= max_tokens else list(_split_long(sent, max_tokens, count))
        for piece, pn in pieces:
            if cur and cur_n + pn + 1 > max_tokens:
                chunks.append((" ".join(cur), cur_n))
                cur, cur_n = [], 0
            cur.append(piece)
            cur_n += pn + (1 if len(cur) > 1 else 0)
    if cur:
        chunks.append((" ".join(cur), cur_n))
    return [(t, count(t)) for t, _ in chunks]


@dataclass
class PassageResult:
    unit: str
    docs: int
    passages: int
    quarantined: int
    filters_applied: list[str]
    filters_skipped: list[str]


def usable_filters(wh: Warehouse, con: duckdb.DuckDBPyConnection, filters: list[str]) -> tuple[list[str], list[str]]:
    """Split filters into those that bind against documents_enriched and those naming columns whose stage has not
    written anything yet, which are skipped rather than failing the run (or testing placeholder NULLs). A filter
    naming a column that exists nowhere, or invalid SQL, is an error."""
    absent = absent_enriched_columns(wh)
    exclude = " EXCLUDE (" + ", ".join(f'"{c}"' for c in absent) + ")" if absent else ""
    applied, skipped = [], []
    for f in filters:
        try:
            con.execute(f"SELECT count(*) FROM (SELECT * FROM documents_enriched LIMIT 0) WHERE ({f})").fetchall()
        except duckdb.Error as e:
            raise UserError(f"synth.passages.filters: {f!r}: {e}") from None
        try:
            con.execute(
                f"SELECT count(*) FROM (SELECT *{exclude} FROM documents_enriched LIMIT 0) WHERE ({f})"
            ).fetchall()
            applied.append(f)
        except duckdb.BinderException:
            skipped.append(f)
    return applied, skipped


def passages_unit(cfg: PassageConfig, applied: list[str], tokenizer: str) -> str:
    key = json.dumps([cfg.max_tokens, cfg.min_tokens, cfg.limit_docs, applied, tokenizer])
    return "p-" + hashlib.sha256(key.encode()).hexdigest()[:16]


def build_passages(
    wh: Warehouse, cfg: PassageConfig, run_id: str, tokenizer: str, count: TokenCounter
) -> PassageResult:
    """Write the `passages` unit for this configuration (streamed; one document in memory at a time)."""
    con = connect(wh)
    applied, skipped = usable_filters(wh, con, cfg.filters)
    unit = passages_unit(cfg, applied, tokenizer)
    where = " AND ".join(["is_current", "NOT is_deleted", *(f"({f})" for f in applied)])
    limit = f" LIMIT {cfg.limit_docs}" if cfg.limit_docs else ""
    reader = con.sql(
        f"SELECT doc_id, text, source_ref FROM documents_enriched WHERE {where} ORDER BY doc_id{limit}"
    ).to_arrow_reader(500)
    docs = n = 0
    with ShardWriter(wh, "passages", unit) as w, Quarantine(wh, STAGE, run_id, unit=f"{STAGE}-passages-{unit}") as q:
        for batch in reader:
            for doc_id, text, ref in zip(*(batch.column(c).to_pylist() for c in range(3)), strict=True):
                docs += 1
                if not text or not text.strip():
                    q.add("empty_document", ref, text, f"{doc_id} has no text to cut into passages")
                    continue
                for k, (chunk, n_tok) in enumerate(chunk_text(text, cfg.max_tokens, count)):
                    if n_tok < cfg.min_tokens:
                        q.add("passage_too_short", f"{doc_id}#{k}", chunk, f"{n_tok} < {cfg.min_tokens} tokens")
                        continue
                    w.write(
                        {
                            "passage_id": f"{doc_id}#{k}",
                            "doc_id": doc_id,
                            "k": k,
                            "text": chunk,
                            "n_tokens": n_tok,
                            "tokenizer": tokenizer,
                            "run_id": run_id,
                        }
                    )
                    n += 1
    return PassageResult(unit, docs, n, q.n, applied, skipped)


def passages_glob(wh: Warehouse, unit: str) -> str:
    return str(wh.table_dir("passages") / unit / "part-*.parquet")
