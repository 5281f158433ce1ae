"""Teacher labels of a propagation job: read from its SQL, one column per head, turned into training targets by the
heads (curation/propagate/heads.py); bad ones rejected.

A category or binary word is lower-cased with every run of non-letters/digits as one underscore, so a teacher that
answers in Biomed-Enriched's spelling ("Clinical Case", "Biomedical") needs no SQL around it. A value a head cannot
read (a score outside its range, an unknown class or word), an empty text or a second label for one unit is rejected
with its reason (and quarantined by the stage), never trained on."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import duckdb

from curation.propagate.config import PropagateJob
from curation.warehouse.quarantine import Rejection


@dataclass(frozen=True)
class Labelled:
    unit_id: str
    text: str
    targets: dict[str, float]  # per head: the score, 0/1, or the class index


@dataclass
class Labels:
    examples: list[Labelled] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    def fingerprint(self, job: PropagateJob) -> str:
        """What a trained student depends on: the labels, the heads and the training settings (not where it is
        saved)."""
        rows = [[e.unit_id, e.text, e.targets] for e in self.examples]
        train = job.train.model_dump(exclude={"output_dir"})
        heads = {n: h.model_dump() for n, h in job.heads.items()}
        return hashlib.sha256(json.dumps([rows, heads, train], sort_keys=True).encode()).hexdigest()


def _targets(job: PropagateJob, text: Any, values: dict[str, Any]) -> dict[str, float] | str:
    """The training targets of one label, or the reason it is unusable."""
    if not isinstance(text, str) or not text.strip():
        return "label_empty_text"
    out = {}
    for name, head in job.heads.items():
        t = head.target(values[name])
        if t is None:
            return head.reason(name)
        out[name] = float(t)
    return out


def read_labels(con: duckdb.DuckDBPyConnection, job: PropagateJob) -> Labels:
    heads = ", ".join(f'"{h}"' for h in job.heads)
    rows = con.execute(
        f"SELECT CAST(unit_id AS VARCHAR), text, {heads} FROM ({job.labels}) AS q WHERE unit_id IS NOT NULL ORDER BY 1"
    ).fetchall()
    out, seen = Labels(), set()
    for unit_id, text, *values in rows:
        ref = f"{job.table}.labels:{unit_id}"  # the label is bad, not the unit: the unit stays releasable
        payload = dict(zip(job.heads, values, strict=True))
        targets = "label_duplicate_unit" if unit_id in seen else _targets(job, text, payload)
        if isinstance(targets, str):
            out.rejected.append(Rejection(targets, ref, payload, f"{job.name}: {payload}"))
            continue
        seen.add(unit_id)
        out.examples.append(Labelled(unit_id, text, targets))
    return out
