"""grounded_qa (MIRIAD style): N question-answer pairs per passage, filtered by rules, a lexical grounding score
and an optional LLM judge."""

from __future__ import annotations

import json
from collections.abc import Iterator

from pydantic import Field

from curation.synth import prompts
from curation.synth.config import GateConfig, TaskSettings
from curation.synth.engine import Engine, Sampling, schema_errors
from curation.synth.tasks import TASKS
from curation.synth.tasks.base import Context, Rejection, Sample, Task
from curation.synth.tasks.passage_inputs import passage_rows
from curation.synth.textcheck import grounding_score, refers_to_source
from curation.validate.row_rules import ANSWER, QUESTION
from curation.warehouse import Warehouse

JUDGE_SCHEMA = {
    "type": "object",
    "properties": {
        "verdict": {"type": "string", "enum": ["good", "bad"]},
        "reason": {"type": "string", "maxLength": 300},
    },
    "required": ["verdict", "reason"],
    "additionalProperties": False,
}
JUDGE_SAMPLING = Sampling(temperature=0.0, top_p=1.0, max_tokens=160, seed=0)


def _norm(q: str) -> str:
    return " ".join(q.lower().split())


class GroundedQAConfig(TaskSettings):
    pairs_per_passage: int = Field(3, ge=1, le=20)
    min_question_chars: int = 12
    max_question_chars: int = 400
    min_answer_chars: int = 12
    max_answer_chars: int = 2000
    min_grounding: float = Field(0.5, ge=0, le=1, description="share of answer content words found in the passage")
    judge: bool = Field(False, description="second pass: an LLM judge labels each pair good/bad with a rubric")
    prompt_version: str = "v1"
    limit: int | None = Field(None, ge=1, description="at most this many passages")
    gate: GateConfig = Field(default_factory=GateConfig)


@TASKS.decorator()
class GroundedQA(Task):
    name = "grounded_qa"
    table = "synthetic_grounded_qa"
    config = GroundedQAConfig
    uses_passages = True
    row_rules = (QUESTION, ANSWER)

    def schema(self) -> dict:
        c = self.cfg.grounded_qa
        pair = {
            "type": "object",
            "properties": {
                "question": {"type": "string", "maxLength": c.max_question_chars},
                "answer": {"type": "string", "maxLength": c.max_answer_chars},
            },
            "required": ["question", "answer"],
            "additionalProperties": False,
        }
        return {
            "type": "object",
            "properties": {"pairs": {"type": "array", "items": pair, "minItems": 1, "maxItems": c.pairs_per_passage}},
            "required": ["pairs"],
            "additionalProperties": False,
        }

    def inputs(self, wh: Warehouse, passages_unit: str | None) -> Iterator[dict]:
        return passage_rows(wh, passages_unit, self.limit)

    def prompt(self, row: dict) -> list[dict[str, str]]:
        return prompts.render(self.prompt_id, n=self.cfg.grounded_qa.pairs_per_passage, passage=row["text"])

    def check_pair(self, question: str, answer: str, passage: str) -> tuple[str, str] | None:
        """(reason, detail) when a pair fails a row check, else None."""
        c = self.cfg.grounded_qa
        q, a = question.strip(), answer.strip()
        for what, text, lo, hi in (
            ("question", q, c.min_question_chars, c.max_question_chars),
            ("answer", a, c.min_answer_chars, c.max_answer_chars),
        ):
            if len(text) < lo:
                return f"{what}_too_short", f"{len(text)} < {lo} chars"
            if len(text) > hi:
                return f"{what}_too_long", f"{len(text)} > {hi} chars"
        if refers_to_source(q) or refers_to_source(a):
            return "refers_to_source", "mentions the study/passage/figure/table"
        score = grounding_score(a, passage)
        if score < c.min_grounding:
            return "not_grounded", f"grounding {score:.2f} < {c.min_grounding}"
        return None

    def evaluate(self, row: dict, samples: list[Sample], ctx: Context) -> tuple[list[dict], list[Rejection]]:
        rows, rejects = [], []
        for s in samples:
            seen: set[str] = set()
            for j, pair in enumerate(s.parsed["pairs"]):
                q, a = pair["question"].strip(), pair["answer"].strip()
                ref = f"{row['input_id']}/s{s.index}/p{j}"
                failed = self.check_pair(q, a, row["text"])
                if failed is None and _norm(q) in seen:
                    failed = ("duplicate_question", "same question twice for one passage")
                if failed:
                    rejects.append(Rejection(failed[0], ref, json.dumps(pair, ensure_ascii=False), failed[1]))
                    continue
                seen.add(_norm(q))
                rows.append(
                    {
                        "record_id": ctx.record_id(self, row["input_id"], s.index, j),
                        "passage_id": row["passage_id"],
                        "doc_id": row["doc_id"],
                        "pair_index": j,
                        "question": q,
                        "answer": a,
                        "grounding_score": round(grounding_score(a, row["text"]), 4),
                        **ctx.common(self, s),
                    }
                )
        return rows, rejects

    def generated_fields(self, row: dict) -> dict[str, str]:
        return {"question": row["question"], "answer": row["answer"]}

    def source_ref(self, row: dict) -> str:
        return f"{row['passage_id']}/s{row['sample_index']}/p{row['pair_index']}"

    def judge(self, engine: Engine, rows: list[dict], inputs: dict[str, dict]) -> tuple[list[dict], list[Rejection]]:
        """Second pass with a rubric (MIRIAD's LLM filter): 'bad' or an unusable verdict is quarantined."""
        if not self.cfg.grounded_qa.judge or not rows:
            return rows, []
        judge_id = f"grounded_qa_judge.{self.prompt_version}"
        msgs = [
            prompts.render(
                judge_id, passage=inputs[r["passage_id"]]["text"], question=r["question"], answer=r["answer"]
            )
            for r in rows
        ]
        kept, rejects = [], []
        for r, res in zip(rows, engine.generate(msgs, JUDGE_SAMPLING, JUDGE_SCHEMA), strict=True):
            payload = json.dumps({"question": r["question"], "answer": r["answer"], "judge_output": res.text})
            verdict = (
                res.parsed if isinstance(res.parsed, dict) and not schema_errors(res.parsed, JUDGE_SCHEMA) else None
            )
            if verdict is None:
                reason = res.error or ("truncated_output" if res.finish_reason == "length" else "unparseable_output")
                rejects.append(Rejection(f"judge_failed_{reason}", r["record_id"], payload, res.detail))
            elif verdict["verdict"] != "good":
                rejects.append(Rejection("judge_rejected", r["record_id"], payload, verdict["reason"]))
            else:
                kept.append(
                    {**r, "judge": {"enabled": True, "prompt_id": judge_id, "model": engine.model_id, **verdict}}
                )
        return kept, rejects
