"""What a synth task is: inputs, a versioned prompt, a JSON schema, and an evaluation that turns valid samples into
rows or rejections. The runner (curation/synth/runner.py) does everything common: generation, parsing, schema
checks, quarantine, writing units."""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel

from curation.synth.engine import Engine, GenResult, Message, Sampling, schema_errors
from curation.warehouse import Warehouse
from curation.warehouse.quarantine import Rejection

if TYPE_CHECKING:
    from curation.synth.config import GateConfig, SynthConfig
    from curation.validate.row_rules import RowRule


@dataclass
class Sample:
    """A generation that parsed and matched the schema."""

    index: int
    result: GenResult
    parsed: Any


@dataclass(frozen=True)
class Choice:
    options: list[dict]
    chosen: str
    gold: str
    question: str


def record_id(task: str, input_id: str, prompt_version: str, model: str, sampling: dict, *indices: int) -> str:
    """Deterministic: the same work always gets the same id, so a rerun or resume replaces instead of duplicating."""
    key = json.dumps([task, input_id, prompt_version, model, sampling, *indices], sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()[:32]


@dataclass
class Context:
    """What a task's evaluation needs besides the sample: used to fill the columns every synthetic table shares."""

    model: str
    sampling: dict
    run_id: str
    fingerprint: str = ""  # the weights hash: with the public id, the model's identity (never a local path)

    def common(self, task: Task, sample: Sample) -> dict[str, Any]:
        return {
            "model": self.model,
            "model_fingerprint": self.fingerprint,
            "prompt_id": task.prompt_id,
            "prompt_version": task.prompt_version,
            "sampling": {**self.sampling, "seed": self.sampling["seed"] + sample.index},
            "judge": {"enabled": False},
            "sample_index": sample.index,
            "n_prompt_tokens": sample.result.n_prompt_tokens,
            "n_output_tokens": sample.result.n_output_tokens,
            "cached": sample.result.cached,
            "run_id": self.run_id,
        }

    def record_id(self, task: Task, input_id: str, *indices: int) -> str:
        model = f"{self.model}@{self.fingerprint}" if self.fingerprint else self.model
        return record_id(task.name, input_id, task.prompt_version, model, self.sampling, *indices)


class Task(ABC):
    """A registered task class declares its name, output table (`synthetic_<name>`, with a schema in
    schemas/tables), its manifest config model (the `synth.<name>` section) and whether it reads passages."""

    name: ClassVar[str]
    table: ClassVar[str]
    config: ClassVar[type[BaseModel]]
    uses_passages: ClassVar[bool] = False
    row_rules: ClassVar[tuple[RowRule, ...]] = ()  # checked by the validate stage on the output table

    def __init__(self, cfg: SynthConfig):
        self.cfg = cfg
        self.task_cfg = getattr(cfg, self.name)  # the manifest section named like the task

    @property
    def prompt_version(self) -> str:
        return self.task_cfg.prompt_version

    @property
    def gate(self) -> GateConfig:
        """The content gate's settings: the task's `gate` section, or the defaults (a plugin's config may have none)."""
        from curation.synth.config import GateConfig

        return getattr(self.task_cfg, "gate", None) or GateConfig()

    @property
    def prompt_id(self) -> str:
        return f"{self.name}.{self.prompt_version}"

    @property
    def n_samples(self) -> int:
        return 1

    @property
    def limit(self) -> int | None:
        return self.task_cfg.limit

    @abstractmethod
    def schema(self) -> dict: ...

    def schema_for(self, row: dict) -> dict:
        """The schema for one input (a multiple-choice task narrows the answer to the item's option labels)."""
        return self.schema()

    @abstractmethod
    def inputs(self, wh: Warehouse, passages_unit: str | None) -> Iterator[dict]:
        """Input rows, each with `input_id` and `source_ref`, in a stable order, streamed."""

    def precheck(self, row: dict) -> Rejection | None:
        """Rejection an input before spending tokens on it (e.g. an item without a gold answer)."""
        return None

    @abstractmethod
    def prompt(self, row: dict) -> list[Message]: ...

    @abstractmethod
    def evaluate(self, row: dict, samples: list[Sample], ctx: Context) -> tuple[list[dict], list[Rejection]]:
        """Row checks over an input's valid samples: accepted rows and rejections."""

    @abstractmethod
    def generated_fields(self, row: dict) -> dict[str, str]:
        """The model-written text of an accepted row, by field name: what the content gate checks."""

    def choice(self, row: dict, inp: dict) -> Choice | None:
        """For multiple-choice reasoning (an accepted row and its input): what the gate's answer-support check and
        verifier need."""
        return None

    def source_ref(self, row: dict) -> str:
        """Quarantine reference of a row: its input and sample (and pair) index."""
        return f"{row['input_id']}/s{row['sample_index']}"

    def judge(self, engine: Engine, rows: list[dict], inputs: dict[str, dict]) -> tuple[list[dict], list[Rejection]]:
        """Optional second pass over accepted rows; default keeps them."""
        return rows, []

    def parse(self, result: GenResult, schema: dict | None) -> Any:
        """The structured output of a generation, or a (reason, detail) pair: JSON checked against the schema here;
        a free-text task extracts its fields instead."""
        if result.parsed is None:
            return ("unparseable_output", "output is not JSON")
        errors = schema_errors(result.parsed, schema or {})
        return ("schema_violation", "; ".join(errors[:5])) if errors else result.parsed

    def example_text(self) -> str:
        """The prompt's worked example, which the content gate refuses to see copied ('' without one)."""
        return ""

    def sampling(self, default: Sampling) -> Sampling:
        """synth.sampling with the task section's `sampling` overrides (a plugin's config may have none)."""
        return default.updated(getattr(self.task_cfg, "sampling", None) or {})

    def aggregate(
        self, inputs: list[dict], rows: list[dict], ctx: Context
    ) -> tuple[list[dict], list[Rejection], dict[str, list[dict]]]:
        """After every check: per-input rules over the accepted rows (a declared task's keep rule), and rows for
        side tables by table name (its per-input `_items` table). Default: nothing more."""
        return rows, [], {}
