"""Clinical notes (format `notes`) into `documents` with `phi_status`: plain text files (one note per file, or a
directory of them), JSON Lines / CSV with note_id, patient_id and text, and MIMIC NOTEEVENTS-style CSV (ROW_ID,
SUBJECT_ID, HADM_ID, CHARTDATE, CATEGORY, DESCRIPTION, TEXT).

A raw note is PHI: nothing of it goes to quarantine (payloads are dropped, details name the row, never a value).
A note that is not UTF-8 is read with `fallback_encoding` (cp1252 by default, the usual culprit) and marked in
`meta.encoding`; when that fails too, or with no fallback, it is quarantined as `wrong_encoding`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, TypedDict

from pydantic import Field

from curation.config_base import StrictModel
from curation.ingest.formats import FORMATS, FormatSpec
from curation.ingest.items import Item, Record, Rejection
from curation.ingest.licenses import normalize_license
from curation.ingest.textio import open_buffered


class _Fields(TypedDict):
    """The input column holding each note field (`date` is optional)."""

    note_id: str
    patient_id: str
    text: str
    date: str | None


_NOTEEVENTS: _Fields = {"note_id": "ROW_ID", "patient_id": "SUBJECT_ID", "text": "TEXT", "date": "CHARTDATE"}
_NOTEEVENTS_META = ("HADM_ID", "CATEGORY", "DESCRIPTION")
_TEXT_SUFFIXES = (".txt", ".note", ".text")


class Options(StrictModel):
    reader: Literal["auto", "text", "jsonl", "csv", "noteevents"] = "auto"  # auto: from the suffix / CSV header
    source: str = "notes"
    phi_status: Literal["raw", "deidentified", "synthetic"] = "raw"  # MIMIC notes come deidentified already
    license: str = "unknown"
    note_id: str = "note_id"  # field names for jsonl / csv
    patient_id: str = "patient_id"
    text: str = "text"
    date: str | None = None  # a field with the note's date (→ `published`)
    meta: list[str] = Field(default_factory=list)  # fields copied into meta (never put PHI here)
    fallback_encoding: str | None = "cp1252"


def _decode(raw: bytes, fallback: str | None) -> tuple[str, str] | None:
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if fallback:
        try:
            return raw.decode(fallback), fallback
        except UnicodeDecodeError:
            return None
    return None


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value).strip()[:10]) if value else None
    except ValueError:
        return None


def _record(
    o: Options, index: int, ref: str, note_id: Any, patient_id: Any, text: str, encoding: str, extra: dict
) -> Item:
    if note_id in (None, ""):
        return Rejection("missing_field", ref, None, "missing note_id")
    if not text or not text.strip():
        return Rejection("empty_note", ref, None, f"note {note_id}: no text")
    license_id, commercial = normalize_license(o.license)
    meta = {"patient_id": None if patient_id in (None, "") else str(patient_id), **extra}
    if encoding != "utf-8":
        meta["encoding"] = encoding
    source_id = str(note_id)
    row = {
        "doc_id": f"{o.source}:{source_id}",
        "work_id": f"{o.source}:{source_id}",
        "source": o.source,
        "source_id": source_id,
        "version": 1,
        "text": text,
        "license": license_id,
        "commercial_use": commercial,
        "phi_status": o.phi_status,
        "published": _date(extra.pop("date", None)),
        "record_index": index,
        "source_ref": ref,
        "meta": meta,
    }
    return Record(row)


def _text_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in _TEXT_SUFFIXES)
    return [path]


def _parse_text(path: Path, o: Options) -> Iterator[Item]:
    for index, p in enumerate(_text_files(path)):
        ref = str(p)
        decoded = _decode(p.read_bytes(), o.fallback_encoding)
        if decoded is None:
            yield Rejection("wrong_encoding", ref, None, f"not UTF-8 nor {o.fallback_encoding}")
            continue
        note_id = str(p.relative_to(path).with_suffix("")) if path.is_dir() else p.stem
        patient = p.parent.name if path.is_dir() and p.parent != path else None
        yield _record(o, index, ref, note_id, patient, decoded[0], decoded[1], {})


def _fields(o: Options, reader: str) -> tuple[_Fields, list[str]]:
    if reader == "noteevents":
        return _NOTEEVENTS.copy(), list(_NOTEEVENTS_META) + o.meta
    return {"note_id": o.note_id, "patient_id": o.patient_id, "text": o.text, "date": o.date}, list(o.meta)


def _from_row(o: Options, reader: str, index: int, ref: str, row: dict[str, Any], encoding: str) -> Item:
    fields, meta = _fields(o, reader)
    extra = {k.lower(): row.get(k) for k in meta if row.get(k) not in (None, "")}
    if fields["date"]:
        extra["date"] = row.get(fields["date"])
    text = row.get(fields["text"])
    if text is not None and not isinstance(text, str):
        return Rejection("wrong_type", ref, None, f"field {fields['text']!r} is a {type(text).__name__}, not text")
    return _record(
        o, index, ref, row.get(fields["note_id"]), row.get(fields["patient_id"]), text or "", encoding, extra
    )


def _parse_jsonl(path: Path, o: Options) -> Iterator[Item]:
    with open_buffered(path) as f:
        for index, line in enumerate(f):
            ref = f"{path}:{index + 1}"
            if not line.strip():
                continue
            decoded = _decode(line, o.fallback_encoding)
            if decoded is None:
                yield Rejection("wrong_encoding", ref, None, f"not UTF-8 nor {o.fallback_encoding}")
                continue
            try:
                row = json.loads(decoded[0])
            except json.JSONDecodeError as e:
                yield Rejection("invalid_json", ref, None, f"{e.msg} at column {e.colno}")
                continue
            if not isinstance(row, dict):
                yield Rejection("invalid_json", ref, None, "not a JSON object")
                continue
            yield _from_row(o, "jsonl", index, ref, row, decoded[1])


def _parse_csv(path: Path, o: Options, reader: str) -> Iterator[Item]:
    csv.field_size_limit(sys.maxsize)
    with open_buffered(path) as raw, io.TextIOWrapper(raw, encoding="utf-8", errors="surrogateescape", newline="") as f:
        rows = csv.DictReader(f)
        for index, row in enumerate(rows):
            ref = f"{path}:{rows.line_num}"
            encoding = "utf-8"
            cells: dict[str, Any] = {}
            for k, v in row.items():
                if k is None or v is None:
                    continue
                try:
                    v.encode("utf-8")  # a lone surrogate (an undecodable byte) raises: the cell was not UTF-8
                    cells[k] = v
                except UnicodeEncodeError:
                    decoded = _decode(v.encode("utf-8", "surrogateescape"), o.fallback_encoding)
                    if decoded is None:
                        break
                    cells[k], encoding = decoded
            else:
                yield _from_row(o, reader, index, ref, cells, encoding)
                continue
            yield Rejection("wrong_encoding", ref, None, f"column {k!r}: not UTF-8 nor {o.fallback_encoding}")


def _reader_of(path: Path, o: Options) -> str:
    if o.reader != "auto":
        return o.reader
    name = path.name.lower().removesuffix(".gz")
    if path.is_dir() or name.endswith(_TEXT_SUFFIXES):
        return "text"
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if name.endswith(".csv"):
        with open_buffered(path) as f:
            header = f.readline().decode("utf-8", "replace")
        return "noteevents" if {"ROW_ID", "SUBJECT_ID", "TEXT"} <= set(next(csv.reader([header]), [])) else "csv"
    raise ValueError(f"cannot tell the notes reader for {path.name}: use .txt, .jsonl, .csv or a directory")


def parse(path: Path, options: Options, split: str | None) -> Iterator[Item]:
    reader = _reader_of(path, options)
    if reader == "text":
        yield from _parse_text(path, options)
    elif reader == "jsonl":
        yield from _parse_jsonl(path, options)
    else:
        yield from _parse_csv(path, options, reader)


FORMATS.register(
    FormatSpec(
        "notes",
        parse,
        Options,
        "documents",
        reads_directories=True,
        reasons={"empty_note": "a clinical note without text"},
    )
)
