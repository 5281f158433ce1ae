"""The one table of ingest quarantine reason codes: the same fault gets the same code in every format.

Parsers and the runner may only quarantine with a code listed here (`Rejection` checks it); docs/ingest.md
shows the same table.
"""

from __future__ import annotations

REASONS: dict[str, str] = {
    # the file or its stream
    "empty_file": "the file holds no row (0 bytes, an empty gzip, only blank lines, no CSV header)",
    "truncated_file": "the file or its gzip stream ends early; rows before the break are kept",
    "corrupt_file": "compressed data that cannot be inflated (bad gzip header, CRC, deflate data); rows before kept",
    "decompression_limit": "more decompressed bytes than `max_decompression_ratio` x the file size; rows before kept",
    "wrong_encoding": "bytes that are not valid UTF-8 (or the declared XML encoding): only that line/row/record",
    "unreadable_file": "the file could not be opened or read (I/O error); recorded by the ingest flow",
    # syntax, per line / row / record
    "invalid_json": "a JSON line that does not parse; in a JSON object file, the rest of the file from the break",
    "invalid_csv": "a CSV/TSV row with the wrong number of columns or broken (e.g. unterminated) quoting",
    "invalid_xml": "malformed XML; records before kept, the rest of the file from the break",
    "invalid_parquet": "a Parquet file, row group or batch that cannot be decoded; only the unreadable rows",
    "too_deep": "JSON nested deeper than `max_json_depth`: only that line (or, in a JSON object file, the rest)",
    "not_an_object": "a JSON line (or member) that is not an object",
    # size
    "line_too_long": "a line longer than `max_line_bytes`: streamed past (first 64 KiB kept), reading goes on",
    "oversized_record": "a record larger than `max_record_bytes` (or a text node libxml2 refuses)",
    # content
    "missing_field": "a required field is absent or empty",
    "wrong_type": "a value that cannot fill its column (a dict for a string, not a date, ...)",
    "answer_not_in_options": "the gold answer is not among the options",
    "answer_out_of_range": "MedMCQA: cop outside the declared base's range",
    "cop_base_mismatch": "MedMCQA: the file contradicts the declared cop_base; the whole file is rejected",
    "invalid_pmid": "PubMedQA: a key that is not a PMID",
    "subject_not_selected": "MMLU: a file of a subject not in `subjects`",
    "missing_pmid": "PubMed: a record without a usable MedlineCitation/PMID",
    "missing_pmcid": "PMC: an article without a PMCID",
    "book_article": "PubMed: a PubmedBookArticle with `book_articles: quarantine`",
    # a bug
    "parser_error": "an unexpected exception in a parser (a bug): rows before it are kept",
}


def all_reasons() -> dict[str, str]:
    """The shared table plus the reasons formats declare for their own faults (`FormatSpec.reasons`)."""
    from curation.ingest.formats import FORMATS

    out = dict(REASONS)
    for spec in FORMATS.values():
        out.update(spec.reasons)
    return out


def check_reason(reason: str) -> str:
    if reason not in REASONS and reason not in all_reasons():
        raise ValueError(
            f"unknown ingest quarantine reason {reason!r}: add it to curation/ingest/reasons.py, or to the format's "
            "FormatSpec(reasons=...) when only that format has the fault"
        )
    return reason
