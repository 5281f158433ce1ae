"""The loop every scorer shares: stream unscored documents, score a batch, write one annotation unit per batch
together with its quarantine. A unit is committed atomically, so a crash loses only the batch in flight and a
rerun (which skips documents already scored with the same version) resumes where it stopped."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel

from curation.progress import tracker
from curation.quality.corpus import Doc, count_docs, stream_docs
from curation.registry import Registry
from curation.warehouse import Quarantine, ShardWriter, Warehouse
from curation.warehouse.quarantine import Rejection, quarantine_unit
from curation.warehouse.runs import RunRecorder

if TYPE_CHECKING:
    from curation.quality.config import ScoreConfig
    from curation.synth.engine import Engine

STAGE = "score"


class Scorer(Protocol):
    name: str
    table: str  # annotations_<name>
    version_column: str
    version: str

    def score(self, docs: Sequence[Doc]) -> list[dict[str, Any] | Rejection]:
        """One result per document, in order."""
        ...


def nonfinite_columns(row: dict[str, Any]) -> list[str]:
    """NaN or ±inf values are never written: the caller quarantines the row instead."""
    return [k for k, v in row.items() if isinstance(v, float) and not math.isfinite(v)]


def run_scorer(
    wh: Warehouse, scorer: Scorer, run: RunRecorder, *, batch_rows: int = 1000, force: bool = False
) -> dict[str, int]:
    """Score every current document that lacks a row of this scorer's version (all of them with `force`)."""
    skip = None if force else (scorer.table, scorer.version_column, scorer.version)
    totals = {"scored": 0, "quarantined": 0}
    pending = count_docs(wh, skip_scored=skip)
    with run.timed(scorer.name), tracker(pending, f"{scorer.name} docs") as bar:
        for k, docs in enumerate(stream_docs(wh, skip_scored=skip, batch_rows=batch_rows)):
            unit = f"{run.run_id}-{k:05d}"
            with (
                ShardWriter(wh, scorer.table, unit) as writer,
                Quarantine(
                    wh, STAGE, run.run_id, unit=quarantine_unit(STAGE, run.run_id, scorer.name, f"{k:05d}")
                ) as quarantine,
            ):
                for doc, result in zip(docs, scorer.score(docs), strict=True):
                    if isinstance(result, dict) and (bad := nonfinite_columns(result)):
                        result = Rejection("nonfinite_score", detail=f"non-finite {bad}: {result}")
                    if isinstance(result, Rejection):
                        quarantine.add(result.reason, doc.doc_id, doc.text, f"{scorer.name}: {result.detail}")
                        continue
                    writer.write(
                        {"doc_id": doc.doc_id, "run_id": run.run_id, scorer.version_column: scorer.version, **result}
                    )
            run.add_output(scorer.table, unit, writer.stats.rows)
            run.quarantined(quarantine.reasons)
            totals["scored"] += writer.stats.rows
            totals["quarantined"] += quarantine.n
            bar.advance(len(docs), rows=writer.stats.rows)
    run.count(f"{scorer.name}.scored", totals["scored"])
    run.count(f"{scorer.name}.quarantined", totals["quarantined"])
    return totals


@dataclass
class ScorerEnv:
    """What building a scorer may need: the warehouse, the stage's settings, the run (to record trained models),
    and the engine factory (a teacher LLM)."""

    wh: Warehouse
    cfg: ScoreConfig
    run: RunRecorder
    engine_factory: Callable[[Any, Warehouse], Engine]
    key: str = ""  # the section: the scorer's name, or `name@instance` for a second configuration of it

    @property
    def config(self) -> Any:
        """This scorer's (or instance's) settings."""
        return self.cfg.section(self.key)


@dataclass(frozen=True)
class ScorerSpec:
    """A registered scorer: its `score.<name>` config model, and `build(env)` returning the Scorer, or None when it
    is switched off or has no model (it then does not run). `order`: scorers run in this order."""

    name: str
    config: type[BaseModel]
    build: Callable[[ScorerEnv], Scorer | None]
    table: str  # its annotation table (schemas/tables/<table>.yaml)
    order: int = 100
    description: str = ""


def as_instance(scorer: Scorer, spec: ScorerSpec, key: str) -> Scorer:
    """A scorer configured as `name@instance` writes its own table, `<table>__<instance>` (documents_enriched shows
    its columns as `<name>__<instance>__<column>`), and counts and quarantines as `<name>__<instance>`; the default
    instance keeps the short names."""
    if "@" in key:
        instance = key.partition("@")[2]
        scorer.name = f"{spec.name}__{instance}"
        scorer.table = f"{spec.table}__{instance}"
    return scorer


SCORERS: Registry[ScorerSpec] = Registry("scorers", scan=("curation.quality.scorers.*",))


def scorer_specs() -> list[ScorerSpec]:
    return sorted(SCORERS.values(), key=lambda s: (s.order, s.name))
