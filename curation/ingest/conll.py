"""CoNLL-style NER files (format `conll`) into `ner_sentences`: one token per line, its tag in the last column,
other columns (POS, chunk) kept as the token's `features`, a blank line between sentences, `-DOCSTART-` lines
between documents. Each sentence carries its entity spans (character offsets into the tokens joined with spaces);
the `ner_spans` view lists them one per row.

A sentence with an invalid tag sequence is quarantined whole, with the line of the first bad tag and the sentence's
raw lines; the rest of the file is kept. `repair: true` turns an I-X that starts an entity into B-X (iob2/bio) and
counts it in `repaired`; unknown tag shapes are never repaired.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from curation.config_base import StrictModel
from curation.ingest.formats import FORMATS, FormatSpec
from curation.ingest.items import Item, Record, Rejection
from curation.ingest.textio import STREAM_ERRORS, open_buffered, stream_reason
from curation.ner.iob import Scheme, check_tags, join_tokens, repair_tags, tags_to_spans

DOCSTART = "-DOCSTART-"


class Options(StrictModel):
    source: str = "conll"
    scheme: Scheme = "iob2"
    repair: bool = False
    separator: Literal["auto", "tab", "space"] = "auto"  # auto: tab when the line has one, else any whitespace


@dataclass
class _Sentence:
    line_start: int
    lines: list[str] = field(default_factory=list)
    docstart: str | None = None
    doc_index: int = 0


def _columns(line: str, separator: str) -> list[str]:
    if separator == "tab" or (separator == "auto" and "\t" in line):
        return line.split("\t")
    return line.split()


def _sentence(path: Path, o: Options, index: int, s: _Sentence, split: str | None) -> Item:
    ref = f"{path}:{s.line_start}"
    raw = "\n".join(s.lines)
    rows = [_columns(line, o.separator) for line in s.lines]
    short = next((i for i, r in enumerate(rows) if len(r) < 2), None)
    if short is not None:
        return Rejection("unknown_tag", f"{path}:{s.line_start + short}", raw, f"line {s.line_start + short}: no tag")
    tokens, tags = [r[0] for r in rows], [r[-1] for r in rows]
    errors = check_tags(tags, o.scheme)
    fixable = all(e.repairable for e in errors)
    if errors and not (o.repair and fixable):
        e = errors[0] if not o.repair else next(x for x in errors if not x.repairable)
        line = s.line_start + e.index
        reason = "invalid_tag_sequence" if e.repairable else "unknown_tag"
        return Rejection(reason, f"{path}:{line}", raw, f"line {line}: {e.message}")
    if errors:
        tags = repair_tags(tags, o.scheme)
    middle = [" ".join(r[1:-1]) or None for r in rows]
    return Record(
        {
            "sentence_id": f"{o.source}:{path.name}:{s.line_start}",
            "source": o.source,
            "split": split,
            "line_start": s.line_start,
            "record_index": index,
            "source_ref": ref,
            "doc_index": s.doc_index,
            "docstart": s.docstart,
            "scheme": "iob2" if o.scheme == "bio" else o.scheme,
            "text": join_tokens(tokens),
            "tokens": tokens,
            "features": middle if any(middle) else None,
            "spans": [sp.row() for sp in tags_to_spans(tokens, tags, o.scheme)],
            "n_tokens": len(tokens),
            "repaired": len(errors),
        }
    )


def _sentences(path: Path) -> Iterator[_Sentence | Rejection]:
    """Sentences by their lines; an undecodable line quarantines its sentence."""
    cur: _Sentence | None = None
    bad: int | None = None
    docstart: str | None = None
    doc_index = 0
    number = 0
    with open_buffered(path) as f:
        for number, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                bad = bad or number
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line.strip() and not line.startswith(DOCSTART):
                cur = cur or _Sentence(number, docstart=docstart, doc_index=doc_index)
                docstart = None
                cur.lines.append(line)
                continue
            if line.startswith(DOCSTART):
                docstart, doc_index = line, doc_index + 1
            if cur is not None:
                yield cur if bad is None else Rejection("wrong_encoding", f"{path}:{bad}", None, f"line {bad}")
            cur, bad = None, None
    if cur is not None:
        yield cur if bad is None else Rejection("wrong_encoding", f"{path}:{bad}", None, f"line {bad}")


def parse(path: Path, options: Options, split: str | None) -> Iterator[Item]:
    index = 0
    try:
        for s in _sentences(path):
            if isinstance(s, Rejection):
                yield s
            else:
                yield _sentence(path, options, index, s, split)
                index += 1
    except STREAM_ERRORS as e:
        yield Rejection(stream_reason(e), str(path), None, f"{type(e).__name__}: {e}; sentences before it are kept")


FORMATS.register(
    FormatSpec(
        "conll",
        parse,
        Options,
        "ner_sentences",
        reasons={
            "invalid_tag_sequence": "NER: an I-X that does not continue an entity of label X (iob2/bio), unrepaired",
            "unknown_tag": "NER: a tag that is not O, B-X or I-X, or a token line without a tag column",
        },
    )
)
