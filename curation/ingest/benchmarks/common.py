"""Shared pieces of the benchmark loaders: streaming JSON Lines and JSON objects with bad input quarantined,
UTF-8 line decoding that isolates a wrongly encoded line, split resolution, stable ids, and the row builder."""

from __future__ import annotations

import codecs
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from curation.errors import IngestConfigError
from curation.ingest.items import Record, Rejection
from curation.ingest.limits import current
from curation.ingest.lines import StreamBroken, iter_lines, too_long
from curation.ingest.textio import STREAM_ERRORS, open_binary, stream_reason

LABELS = "ABCDEFGHIJ"
SPLIT_TOKENS = ("train", "dev", "val", "validation", "test")
_CHUNK = 1 << 20
_UNDECODABLE = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8, kept by surrogateescape
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")


def stable_item_id(benchmark: str, split: str, *parts: str) -> str:
    """`{benchmark}:{split}:{hash}`: independent of row order, so subsets and reshuffled copies agree."""
    h = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]
    return f"{benchmark}:{split}:{h}"


def split_from_name(path: Path) -> str | None:
    """The split named in a file name (`anatomy_val.csv`, `dev.jsonl`, `medqa_test_rows0-99.jsonl`), if exactly one."""
    tokens = set(re.split(r"[_.\-\s]+", path.name.lower()))
    found = [t for t in SPLIT_TOKENS if t in tokens]
    return found[0] if len(found) == 1 else None


def resolve_split(benchmark: str, path: Path, *candidates: str | None) -> str:
    """The first explicit split (source `split`, then the format option), else the one in the file name.

    No split is a configuration error for the whole file rather than a guess: a test item filed as train would
    leak into training data.
    """
    for c in candidates:
        if c:
            return c
    found = split_from_name(path)
    if not found:
        raise IngestConfigError(
            f"{benchmark}: no split for {path.name}: set `split` on the source (or --split); "
            f"the file name names none of {list(SPLIT_TOKENS)}"
        )
    return found


def json_too_deep(text: str, limit: int) -> bool:
    """Whether a JSON text nests deeper than `limit`; only lines with many brackets are scanned (strings skipped)."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for m in _BRACKETS.finditer(_STRINGS.sub('""', text)):
        depth += 1 if m.group() in "[{" else -1
        if depth > limit:
            return True
    return False


def iter_jsonl(path: Path) -> Iterator[tuple[int, int, dict[str, Any] | Rejection]]:
    """Yield (record_index, line_no, object) per non-blank line; bad lines (and an empty file) come as Rejection.

    One line at a time through the bounded line reader: an over-long, undecodable, invalid or too deeply nested
    line is quarantined alone and reading goes on; a broken stream keeps the lines before it.
    """
    index, depth = 0, current().max_json_depth
    try:
        for line in iter_lines(path):
            ref = f"{path}:{line.number}"
            if line.too_long:
                yield index, line.number, too_long(path, line)
                index += 1
                continue
            try:
                text = line.data.decode("utf-8")
            except UnicodeDecodeError as e:
                yield index, line.number, Rejection("wrong_encoding", ref, line.data, f"not UTF-8: {e}")
                index += 1
                continue
            if not text.strip():
                continue
            if json_too_deep(text, depth):
                yield (
                    index,
                    line.number,
                    Rejection("too_deep", ref, text, f"nested deeper than max_json_depth {depth}"),
                )
                index += 1
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as e:
                yield index, line.number, Rejection("invalid_json", ref, text, str(e))
            else:
                if isinstance(obj, dict):
                    yield index, line.number, obj
                else:
                    yield index, line.number, Rejection("not_an_object", ref, text, f"got {type(obj).__name__}")
            index += 1
    except StreamBroken as e:
        yield index, e.line, e.quarantined(path, index)
        return
    if index == 0:
        yield 0, 0, Rejection("empty_file", str(path), None, "no JSON line in the file")


class ValueTooLarge(ValueError):
    """One JSON value beyond the bound on what is held in memory (`max_line_bytes` characters)."""


class _JsonStream:
    """A growing text window over a UTF-8 byte stream, for decoding one JSON value at a time."""

    def __init__(self, f, max_value_chars: int):
        self.f = f
        self.dec = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
        self.buf, self.pos, self.consumed, self.eof = "", 0, 0, False
        self.max_value_chars = max_value_chars
        self.json = json.JSONDecoder()
        self.last_bad = ""  # why the last value's text was not valid UTF-8, if it was not
        self.last_text = ""

    def more(self) -> bool:
        if self.eof:
            return False
        chunk = self.f.read(_CHUNK)
        self.eof = not chunk
        text = self.dec.decode(chunk, final=self.eof)
        if self.consumed == 0 and self.pos == 0 and text.startswith("\ufeff"):
            text = text[1:]
        self.buf, self.consumed, self.pos = self.buf[self.pos :] + text, self.consumed + self.pos, 0
        return bool(chunk)

    def peek(self) -> str:
        """The next non-blank character ('' at the end of the file)."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buf) or not self.more():
                return self.buf[self.pos : self.pos + 1]

    def value(self) -> Any:
        """The next JSON value; its raw text stays in `last_text` (for a quarantine payload) until the next one."""
        self.peek()
        while True:
            try:
                obj, end = self.json.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError:
                if len(self.buf) - self.pos > self.max_value_chars:
                    raise ValueTooLarge(f"a JSON value longer than {self.max_value_chars} characters") from None
                if not self.more():
                    raise
                continue
            if end == len(self.buf) and self.more():  # a number may go on in the next chunk
                continue
            bad = _UNDECODABLE.search(self.buf, self.pos, end)
            self.last_bad = f"not UTF-8: byte 0x{ord(bad.group()) - 0xDC00:02x}" if bad else ""
            self.last_text = self.buf[self.pos : end]
            self.pos = end
            return obj

    def where(self) -> int:
        return self.consumed + self.pos


def iter_json_object(path: Path) -> Iterator[tuple[str, Any] | Rejection]:
    """Stream the members of a top-level JSON object (`{"key": value, ...}`, e.g. PubMedQA keyed by PMID).

    Holds one member at a time (at most `max_line_bytes` characters), not the file. A member nested deeper than
    `max_json_depth` is quarantined alone. Invalid JSON, a member too large or too deep for the decoder, or a broken
    stream stops the file there: the members before it are kept and the rest is quarantined with its character
    offset (a JSON object cannot be resynchronized safely).
    """
    lim = current()
    with open_binary(path) as f:
        s = _JsonStream(f, lim.max_line_bytes)

        def fail(reason: str, why: str) -> Rejection:
            return Rejection(reason, f"{path}@char{s.where()}", s.buf[s.pos : s.pos + 2000] or None, why)

        try:
            first = s.peek()
            if not first:
                yield fail("empty_file", "no JSON object in the file")
                return
            if first != "{":
                yield fail("invalid_json", "the file is not a JSON object")
                return
            s.pos += 1
            if s.peek() == "}":
                return
            while True:
                key = s.value()
                if not isinstance(key, str) or s.peek() != ":":
                    yield fail("invalid_json", "expected a string key and ':' (rest of the file quarantined)")
                    return
                s.pos += 1
                start = s.where()
                member = s.value()
                ref = f"{path}#{key}@char{start}"
                if s.last_bad:
                    yield Rejection("wrong_encoding", ref, s.last_text, s.last_bad)
                elif json_too_deep(s.last_text, lim.max_json_depth):
                    why = f"nested deeper than max_json_depth {lim.max_json_depth}"
                    yield Rejection("too_deep", ref, s.last_text, why)
                else:
                    yield key, member
                sep = s.peek()
                if sep == "}":
                    return
                if sep != ",":
                    why = f"expected ',' or '}}', got {sep!r}" if sep else "truncated: the object is not closed"
                    yield fail("invalid_json", why)
                    return
                s.pos += 1
        except json.JSONDecodeError as e:
            yield fail("invalid_json", f"{e.msg} (rest of the file quarantined)")
        except ValueTooLarge as e:
            yield fail("oversized_record", f"{e} (rest of the file quarantined)")
        except RecursionError:
            yield fail("too_deep", "nested too deep for the JSON decoder (rest of the file quarantined)")
        except STREAM_ERRORS as e:
            yield fail(stream_reason(e), f"{type(e).__name__}: {e} (rest of the file quarantined)")


def item_record(
    benchmark: str,
    split: str,
    index: int,
    ref: str,
    question: str,
    options: list[dict[str, str]],
    answer: str | None,
    *,
    id_parts: tuple[str, ...] = (),
    **fields: Any,
) -> Record:
    """A `benchmark_items` row. The item_id hashes the question and option texts (plus `id_parts`, e.g. an
    MMLU subject), never the row number, so a subset, a shuffled copy and the full file give the same ids."""
    texts = [o["text"] for o in options]
    row = {
        "item_id": stable_item_id(benchmark, split, *id_parts, question, *texts),
        "benchmark": benchmark,
        "split": split,
        "subject": None,
        "question": question,
        "options": options,
        "answer": answer,
        "answer_text": next((o["text"] for o in options if o["label"] == answer), None),
        "context": None,
        "pmid": None,
        "record_index": index,
        "source_ref": ref,
        "meta": None,
    }
    row.update(fields)
    return Record(row)
