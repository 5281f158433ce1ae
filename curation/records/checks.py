"""Checks for generated patient data (declared tasks, docs/records.md):

- `record_row` (SynLLM): a model-written row must fit the record schema: its types, ranges, categories and
  cross-column rules, with no missing or extra columns. A failing row is quarantined with the first problem's reason
  (`wrong_type`, `out_of_range`, `extra_column`, `rule_violation`, ...) and every problem in the detail; an accepted
  row gets the schema's columns, typed, beside the raw output.
- `concepts_mentioned` (SimSUM): a note written for a record must mention every positive concept of the record
  (a true bool column, or a category value listed as positive); otherwise `concept_missing` names the concepts. An
  accepted note gets `spans`: every mention of every declared concept, linking the note to the record's columns.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import Field

from curation.config_base import StrictModel
from curation.records.schema import TABLE_TYPES, RecordSchema, load_record_schema
from curation.records.validate import check_rows
from curation.synth.recipe.checks import CHECKS, Check, Verdict


class RecordRowParams(StrictModel):
    model_config = StrictModel.model_config | {"populate_by_name": True}

    record_schema: str | dict[str, Any] = Field(alias="schema", description="a record schema file, or inline")
    field: str = Field("row", description="the output field holding the row (a JSON object)")


@CHECKS.decorator()
class RecordRow(Check):
    name = "record_row"
    params = RecordRowParams

    def __init__(self, p: Any, base_dir: Path):
        super().__init__(p, base_dir)
        self.schema: RecordSchema = load_record_schema(p.record_schema, base_dir)

    def needs(self) -> tuple[set[str], set[str]]:
        return {self.p.field}, set()

    def columns(self) -> dict[str, str]:
        return {c.name: TABLE_TYPES[c.type] for c in self.schema.columns}

    def _checked(self, out: dict[str, Any]) -> tuple[dict[str, Any] | None, Verdict]:
        raw = out.get(self.p.field)
        if not isinstance(raw, dict):
            return None, ("wrong_type", f"{self.p.field}: {type(raw).__name__} is not an object of columns")
        checked = check_rows(self.schema, [raw])
        if checked.rows:
            return checked.rows[0], None
        problems = checked.problems[0]
        return None, (problems[0].reason, "; ".join(p.detail for p in problems))

    def row(self, out: dict[str, Any], inp: dict[str, Any]) -> Verdict:
        return self._checked(out)[1]

    def measure(self, out: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
        return self._checked(out)[0] or {}


class Concept(StrictModel):
    terms: list[str] = Field(min_length=1, description="words that mention the concept (whole words, any case)")
    positive: list[str] = Field(
        default_factory=lambda: ["true"], description="column values that must be mentioned (bool columns: true)"
    )


class ConceptsParams(StrictModel):
    field: str = Field("note", description="the output field holding the note")
    concepts: dict[str, Concept] = Field(min_length=1, description="input column -> its terms")


SPAN_TYPE = "list<struct<start: int64, end: int64, concept: string, value: string, text: string>>"


def _value(v: Any) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


@CHECKS.decorator()
class ConceptsMentioned(Check):
    name = "concepts_mentioned"
    params = ConceptsParams

    def __init__(self, p: Any, base_dir: Path):
        super().__init__(p, base_dir)
        self.patterns = {
            c: re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in spec.terms) + r")(?!\w)", re.IGNORECASE)
            for c, spec in p.concepts.items()
        }

    def needs(self) -> tuple[set[str], set[str]]:
        return {self.p.field}, set(self.p.concepts)

    def columns(self) -> dict[str, str]:
        return {"spans": SPAN_TYPE}

    def row(self, out: dict[str, Any], inp: dict[str, Any]) -> Verdict:
        note = str(out.get(self.p.field) or "")
        missing = [
            f"{c}={_value(inp.get(c))}"
            for c, spec in self.p.concepts.items()
            if _value(inp.get(c)) in spec.positive and not self.patterns[c].search(note)
        ]
        if missing:
            return "concept_missing", "not mentioned: " + ", ".join(missing)
        return None

    def measure(self, out: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
        note = str(out.get(self.p.field) or "")
        spans = [
            {"start": m.start(), "end": m.end(), "concept": c, "value": _value(inp.get(c)), "text": m.group(0)}
            for c, rx in self.patterns.items()
            for m in rx.finditer(note)
        ]
        return {"spans": sorted(spans, key=lambda s: (s["start"], s["end"]))}
