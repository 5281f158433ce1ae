"""Decontamination: an index of benchmark evaluation items and the rules that flag training text matching them.

index = EvalIndex.from_warehouse(connect(wh), cfg)        # or EvalIndex.from_items(rows, cfg)
match_text(text, index, pmid) -> Match                    # contaminated, contam_benchmark, ..., overlap
decontaminate_records(records, index) -> (key, Match)...  # synthetic rows, passages
write_record_annotations(wh, "synthetic_<task>", rows, index, run_id)   # -> synthetic_decontam
annotate_table(wh, "synthetic_<task>", index, run_id)                     # a whole table, in batches
"""

from curation.decontam.annotate import annotate_table, decontaminate_records, record_text, write_record_annotations
from curation.decontam.index import EvalIndex
from curation.decontam.rules import Match, match_text

__all__ = [
    "EvalIndex",
    "Match",
    "annotate_table",
    "decontaminate_records",
    "match_text",
    "record_text",
    "write_record_annotations",
]
