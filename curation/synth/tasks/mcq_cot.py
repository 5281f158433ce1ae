"""mcq_cot (Meerkat / m1 style): step-by-step reasoning for multiple-choice items of train splits, kept only when
the final answer equals the gold answer; k samples per item give a pass rate and a difficulty filter
(MedVLThinker kept items with 1 <= passes <= 7 of 16)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from pydantic import Field

from curation.synth import prompts
from curation.synth.config import GateConfig, TaskSettings
from curation.synth.tasks import TASKS
from curation.synth.tasks.base import Choice, Context, Rejection, Sample, Task
from curation.synth.tasks.item_inputs import item_rows
from curation.validate.row_rules import COT_GOLD, FINAL_IN_OPTIONS, FINAL_IS_GOLD, QUESTION
from curation.warehouse import Warehouse


class MCQCoTConfig(TaskSettings):
    splits: list[str] = Field(default_factory=lambda: ["train"])
    benchmarks: list[str] | None = None
    samples: int = Field(1, ge=1, le=64, description="k samples per item; pass rate = correct / k")
    min_passes: int = Field(1, ge=0, description="keep an item's correct samples only if passes >= this")
    max_passes: int | None = Field(None, ge=0, description="... and passes <= this (difficulty filter, e.g. 7 of 16)")
    max_reasoning_chars: int = Field(4000, ge=1)
    prompt_version: str = "v1"
    limit: int | None = Field(None, ge=1, description="at most this many items")
    gate: GateConfig = Field(default_factory=GateConfig)


@TASKS.decorator()
class MCQCoT(Task):
    name = "mcq_cot"
    table = "synthetic_mcq_cot"
    config = MCQCoTConfig
    row_rules = (QUESTION, COT_GOLD, FINAL_IN_OPTIONS, FINAL_IS_GOLD)

    @property
    def n_samples(self) -> int:
        return self.cfg.mcq_cot.samples

    def schema(self, labels: list[str] | None = None) -> dict:
        return {
            "type": "object",
            "properties": {
                "reasoning": {"type": "string", "minLength": 1, "maxLength": self.cfg.mcq_cot.max_reasoning_chars},
                "final_answer": {"type": "string", "enum": labels or list("ABCDEFGHIJ")},
            },
            "required": ["reasoning", "final_answer"],
            "additionalProperties": False,
        }

    def inputs(self, wh: Warehouse, passages_unit: str | None) -> Iterator[dict]:
        c = self.cfg.mcq_cot
        return item_rows(wh, c.splits, c.benchmarks, c.limit)

    def schema_for(self, row: dict) -> dict:
        """Constrain the final answer to this item's labels; the check against gold stays in evaluate()."""
        return self.schema([o["label"] for o in row["options"]])

    def precheck(self, row: dict) -> Rejection | None:
        labels = [o["label"] for o in row.get("options") or []]
        if len(labels) < 2:
            return Rejection(
                "no_options", row["item_id"], row["question"], f"not multiple-choice ({row['source_ref']})"
            )
        if row.get("answer") not in labels:
            detail = f"gold {row.get('answer')!r} is not one of {labels} ({row['source_ref']})"
            return Rejection("no_gold_answer", row["item_id"], row["question"], detail)
        return None

    def prompt(self, row: dict) -> list[dict[str, str]]:
        options = "\n".join(f"{o['label']}. {o['text']}" for o in row["options"])
        return prompts.render(self.prompt_id, question=row["question"], options=options)

    def evaluate(self, row: dict, samples: list[Sample], ctx: Context) -> tuple[list[dict], list[Rejection]]:
        c = self.cfg.mcq_cot
        gold = row["answer"]
        labels = [o["label"] for o in row["options"]]
        correct = [s for s in samples if s.parsed["final_answer"] == gold and s.parsed["reasoning"].strip()]
        n_correct = len(correct)
        too_easy = c.max_passes is not None and n_correct > c.max_passes
        too_hard = n_correct < c.min_passes
        rows, rejects = [], []
        for s in samples:
            ref = f"{row['input_id']}/s{s.index}"
            raw = json.dumps(s.parsed, ensure_ascii=False)
            final = s.parsed["final_answer"]
            if final not in labels:
                rejects.append(Rejection("answer_not_an_option", ref, raw, f"{final!r} not in {labels}"))
            elif not s.parsed["reasoning"].strip():
                rejects.append(Rejection("empty_reasoning", ref, raw))
            elif final != gold:
                rejects.append(Rejection("wrong_answer", ref, raw, f"final {final} != gold {gold}"))
            elif too_easy or too_hard:
                why = "too_easy" if too_easy else "too_hard"
                rejects.append(Rejection(why, ref, raw, f"{n_correct} of {c.samples} samples correct"))
            else:
                rows.append(
                    {
                        "record_id": ctx.record_id(self, row["input_id"], s.index),
                        "item_id": row["item_id"],
                        "benchmark": row["benchmark"],
                        "question": row["question"],
                        "options": row["options"],
                        "gold_answer": gold,
                        "reasoning": s.parsed["reasoning"].strip(),
                        "final_answer": final,
                        "n_samples": c.samples,
                        "n_correct": n_correct,
                        "pass_rate": n_correct / c.samples,
                        **ctx.common(self, s),
                    }
                )
        return rows, rejects

    def generated_fields(self, row: dict) -> dict[str, str]:
        return {"reasoning": row["reasoning"]}

    def choice(self, row: dict) -> Choice:
        return Choice(row["options"], row["final_answer"], row["gold_answer"], row["question"])

    def source_ref(self, row: dict) -> str:
        return f"{row['item_id']}/s{row['sample_index']}"
