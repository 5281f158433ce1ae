"""Teacher labels of a propagation job: read from its SQL, mapped onto the student's label sets, bad ones rejected.

Mapping: doc_type and domain are lower-cased with every run of non-letters/digits as one underscore, so a teacher
that answers in the Biomed-Enriched spelling ("Clinical Case", "Biomedical") needs no SQL around it; anything
outside DOC_TYPES / DOMAINS, an edu score outside 1..5, an empty text or a second label for one unit is rejected
with its reason (and quarantined by the stage), never trained on."""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import duckdb

from curation.propagate.config import PropagateJob
from curation.quality.edu_model import DOC_TYPES, DOMAINS
from curation.quality.edu_train import Example
from curation.warehouse.quarantine import Rejection


@dataclass
class Labels:
    examples: list[Example] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    def fingerprint(self, job: PropagateJob) -> str:
        """What a trained student depends on: the labels and the training settings (not where it is saved)."""
        rows = [[e.unit_id, e.text, e.edu, e.doc_type, e.domain] for e in self.examples]
        train = job.train.model_dump(exclude={"output_dir"})
        return hashlib.sha256(json.dumps([rows, train], sort_keys=True).encode()).hexdigest()


def code(value: Any, allowed: tuple[str, ...]) -> str | None:
    """The label code a teacher's string stands for, or None."""
    c = re.sub(r"[^a-z0-9]+", "_", str(value or "").strip().lower()).strip("_")
    return c if c in allowed else None


def _problem(edu: Any, text: Any, doc_type: str | None, domain: str | None) -> str | None:
    if not isinstance(text, str) or not text.strip():
        return "label_empty_text"
    if not isinstance(edu, int | float) or not math.isfinite(edu) or not 1 <= edu <= 5:
        return "label_edu_out_of_range"
    if doc_type is None:
        return "label_unknown_doc_type"
    if domain is None:
        return "label_unknown_domain"
    return None


def read_labels(con: duckdb.DuckDBPyConnection, job: PropagateJob) -> Labels:
    rows = con.execute(
        f"SELECT CAST(unit_id AS VARCHAR), text, edu, doc_type, domain FROM ({job.labels}) AS q "
        "WHERE unit_id IS NOT NULL ORDER BY 1"
    ).fetchall()
    out, seen = Labels(), set()
    for unit_id, text, edu, doc_type, domain in rows:
        ref = f"{job.table}.labels:{unit_id}"  # the label is bad, not the unit: the unit stays releasable
        payload = {"edu": edu, "doc_type": doc_type, "domain": domain}
        t, d = code(doc_type, DOC_TYPES), code(domain, DOMAINS)
        reason = "label_duplicate_unit" if unit_id in seen else _problem(edu, text, t, d)
        if reason is not None:
            out.rejected.append(Rejection(reason, ref, payload, f"{job.name}: {payload}"))
            continue
        seen.add(unit_id)
        out.examples.append(Example(unit_id, text, round(edu), str(t), str(d)))
    return out
