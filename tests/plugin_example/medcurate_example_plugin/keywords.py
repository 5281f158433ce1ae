"""Synth task `keywords`: five keywords per passage as JSON, kept when every keyword occurs in the passage."""

from __future__ import annotations

import json
from collections.abc import Iterator

from curation.config_base import StrictModel
from curation.synth.tasks import TASKS
from curation.synth.tasks.base import Context, Rejection, Sample, Task
from curation.synth.tasks.passage_inputs import passage_rows
from curation.warehouse import Warehouse


class KeywordsConfig(StrictModel):
    prompt_version: str = "v1"
    limit: int | None = None
    require_in_passage: bool = True


@TASKS.decorator()
class Keywords(Task):
    name = "keywords"
    table = "synthetic_keywords"
    config = KeywordsConfig
    uses_passages = True

    def schema(self) -> dict:
        return {
            "type": "object",
            "properties": {
                "keywords": {
                    "type": "array",
                    "items": {"type": "string", "maxLength": 40},
                    "minItems": 1,
                    "maxItems": 5,
                }
            },
            "required": ["keywords"],
            "additionalProperties": False,
        }

    def inputs(self, wh: Warehouse, passages_unit: str | None) -> Iterator[dict]:
        return passage_rows(wh, passages_unit, self.limit)

    def prompt(self, row: dict) -> list[dict[str, str]]:
        return [
            {"role": "system", "content": "You extract keywords. Answer with JSON only."},
            {
                "role": "user",
                "content": f"Give up to five keywords of this passage.\n<passage>\n{row['text']}\n</passage>",
            },
        ]

    def generated_fields(self, row: dict) -> dict[str, str]:
        return {"keywords": ", ".join(row["keywords"])}

    def evaluate(self, row: dict, samples: list[Sample], ctx: Context) -> tuple[list[dict], list[Rejection]]:
        rows, rejects = [], []
        for s in samples:
            words = [w.strip() for w in s.parsed["keywords"] if w.strip()]
            missing = [w for w in words if w.lower() not in row["text"].lower()]
            if not words or (self.task_cfg.require_in_passage and missing):
                rejects.append(
                    Rejection("keyword_not_in_passage", row["source_ref"], json.dumps(s.parsed), str(missing))
                )
                continue
            rows.append(
                {
                    "record_id": ctx.record_id(self, row["input_id"], s.index),
                    "passage_id": row["passage_id"],
                    "doc_id": row["doc_id"],
                    "keywords": words,
                    **ctx.common(self, s),
                }
            )
        return rows, rejects
