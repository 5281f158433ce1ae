"""dialogue (Clinical Camel DBKE style): a passage becomes a multi-turn patient-doctor conversation, checked for
role alternation, turn count and empty turns."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import Field, model_validator

from curation.synth import prompts
from curation.synth.config import GateConfig, TaskSettings
from curation.synth.tasks import TASKS
from curation.synth.tasks.base import Context, Rejection, Sample, Task
from curation.synth.tasks.passage_inputs import passage_rows
from curation.synth.textcheck import grounding_score, refers_to_source
from curation.validate.row_rules import RowRule, blank
from curation.warehouse import Warehouse

TURN_MAX_CHARS = 1200


def _dialogue_alternates(row: Mapping[str, Any]) -> str | None:
    turns = row.get("turns") or []
    if len(turns) < 2:
        return f"{len(turns)} turns; a dialogue needs at least 2"
    prev = None
    for i, t in enumerate(turns):
        role = t.get("role") if isinstance(t, Mapping) else None
        if blank(role) or blank(t.get("text")):
            return f"turn {i} has an empty role or text"
        if role == prev:
            return f"turns {i - 1} and {i} are both {role!r}: roles must alternate"
        prev = role
    return None


DIALOGUE = RowRule(
    "dialogue_roles_alternate", ("turns",), _dialogue_alternates, "at least two turns, non-empty, roles alternate"
)


class DialogueConfig(TaskSettings):
    min_turns: int = Field(4, ge=2)
    max_turns: int = Field(16, ge=2)
    min_turn_chars: int = 2
    prompt_version: str = "v1"
    limit: int | None = Field(None, ge=1)
    gate: GateConfig = Field(default_factory=GateConfig)

    @model_validator(mode="after")
    def _check(self) -> DialogueConfig:
        if self.min_turns > self.max_turns:
            raise ValueError("min_turns > max_turns")
        return self


@TASKS.decorator()
class Dialogue(Task):
    name = "dialogue"
    table = "synthetic_dialogue"
    config = DialogueConfig
    uses_passages = True
    row_rules = (DIALOGUE,)

    def schema(self) -> dict:
        c = self.cfg.dialogue
        turn = {
            "type": "object",
            "properties": {
                "role": {"type": "string", "enum": ["patient", "doctor"]},
                "text": {"type": "string", "maxLength": TURN_MAX_CHARS},
            },
            "required": ["role", "text"],
            "additionalProperties": False,
        }
        return {
            "type": "object",
            "properties": {"turns": {"type": "array", "items": turn, "minItems": 1, "maxItems": c.max_turns + 4}},
            "required": ["turns"],
            "additionalProperties": False,
        }

    def inputs(self, wh: Warehouse, passages_unit: str | None) -> Iterator[dict]:
        return passage_rows(wh, passages_unit, self.limit)

    def prompt(self, row: dict) -> list[dict[str, str]]:
        c = self.cfg.dialogue
        return prompts.render(self.prompt_id, passage=row["text"], min_turns=c.min_turns, max_turns=c.max_turns)

    def check_turns(self, turns: list[dict]) -> tuple[str, str] | None:
        c = self.cfg.dialogue
        if len(turns) < c.min_turns:
            return "too_few_turns", f"{len(turns)} < {c.min_turns}"
        if len(turns) > c.max_turns:
            return "too_many_turns", f"{len(turns)} > {c.max_turns}"
        if turns[0]["role"] != "patient":
            return "doctor_speaks_first", "the patient opens the conversation"
        for i in range(1, len(turns)):
            if turns[i]["role"] == turns[i - 1]["role"]:
                return "roles_not_alternating", f"turns {i - 1} and {i} are both {turns[i]['role']}"
        for i, t in enumerate(turns):
            if len(t["text"].strip()) < c.min_turn_chars:
                return "empty_turn", f"turn {i}"
            if t["role"] == "doctor" and refers_to_source(t["text"]):
                return "refers_to_source", f"turn {i} mentions the source"
        return None

    def evaluate(self, row: dict, samples: list[Sample], ctx: Context) -> tuple[list[dict], list[Rejection]]:
        rows, rejects = [], []
        for s in samples:
            turns = [{"role": t["role"], "text": t["text"].strip()} for t in s.parsed["turns"]]
            failed = self.check_turns(turns)
            if failed:
                ref = f"{row['input_id']}/s{s.index}"
                rejects.append(Rejection(failed[0], ref, json.dumps(s.parsed, ensure_ascii=False), failed[1]))
                continue
            doctor = " ".join(t["text"] for t in turns if t["role"] == "doctor")
            rows.append(
                {
                    "record_id": ctx.record_id(self, row["input_id"], s.index),
                    "passage_id": row["passage_id"],
                    "doc_id": row["doc_id"],
                    "turns": turns,
                    "n_turns": len(turns),
                    "grounding_score": round(grounding_score(doctor, row["text"]), 4),
                    **ctx.common(self, s),
                }
            )
        return rows, rejects

    def generated_fields(self, row: dict) -> dict[str, str]:
        return {f"turns[{i}]": t["text"] for i, t in enumerate(row["turns"])}

    def source_ref(self, row: dict) -> str:
        return f"{row['passage_id']}/s{row['sample_index']}"
