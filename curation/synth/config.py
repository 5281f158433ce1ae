"""Manifest settings for synthetic data generation (manifest key `synth`)."""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from curation.config_base import SectionsModel, StrictModel
from curation.synth.recipe.steps import StepConfig, is_step


class SamplingConfig(StrictModel):
    temperature: float = Field(0.7, ge=0)
    top_p: float = Field(0.95, gt=0, le=1)
    max_tokens: int = Field(512, ge=1)
    seed: int = 0
    frequency_penalty: float = Field(
        0.0,
        ge=-2.0,
        le=2.0,
        description="above 0 penalises tokens by how often the output already used them (small models loop without "
        "it); unlike a repetition penalty it leaves the prompt's words free, so grounded answers can quote the source",
    )


def sampling_overrides(v: dict) -> dict:
    """Validate a partial sampling mapping (a model's or a task's) against synth.sampling's keys and bounds."""
    SamplingConfig.model_validate(v)
    return v


class TaskSettings(StrictModel):
    """What every task's section may set besides its own options: sampling over synth.sampling (a loop-prone task
    may want a frequency penalty that would hurt another)."""

    sampling: dict[str, float | int] = Field(default_factory=dict, description="over synth.sampling for this task")

    @field_validator("sampling")
    @classmethod
    def _sampling_keys(cls, v: dict) -> dict:
        return sampling_overrides(v)


class PerplexityGateConfig(StrictModel):
    """Perplexity of the generated text under a reference causal LM (transformers, CPU or GPU)."""

    enabled: bool = True
    model: str | None = Field(None, description="reference LM (public id or directory); default: the generator")
    max_ppl: float = Field(
        80.0,
        gt=1,
        description="above every recorded SmolLM2-135M-Instruct output under itself (max 73.8), 100x below random "
        "text (min 9339); docs/synth.md",
    )
    max_tokens: int = Field(512, ge=8, description="score at most this many leading tokens per text")


class GateConfig(StrictModel):
    """The content gate every generated text passes before its row is accepted (curation/synth/gate.py). The
    heuristics are the document cleaner's definitions (curation/clean/signals.py) applied to generated text."""

    language: str | None = Field("en", description="expected language (ISO 639-1); null disables the check")
    min_lang_score: float = Field(0.5, ge=0, le=1)
    min_words: int = Field(3, ge=0, description="words in all generated fields of a row together")
    ngram_n: int = Field(4, ge=2)
    max_duplicate_ngram_fraction: float = Field(0.4, ge=0, le=1)
    max_duplicate_line_fraction: float = Field(0.3, ge=0, le=1)
    max_symbol_word_ratio: float = Field(0.1, ge=0)
    max_non_alpha_fraction: float = Field(0.35, ge=0, le=1)
    max_control_fraction: float = Field(0.0, ge=0, le=1)
    max_token_run: int = Field(4, ge=1, description="longest run of one word repeated back to back")
    max_example_overlap: float = Field(
        0.3, ge=0, le=1, description="share of the text's word n-grams found in the prompt's worked example"
    )
    perplexity: PerplexityGateConfig = Field(default_factory=PerplexityGateConfig)
    cot_supports_answer: bool = Field(True, description="mcq_cot: the reasoning's conclusion names the chosen option")
    verifier: bool = Field(
        False, description="mcq_cot: an independent pass answers from the reasoning alone and must agree with gold"
    )


class PassageConfig(StrictModel):
    """How documents become passages. Each filter is a SQL boolean expression over documents_enriched; a filter
    whose columns do not exist (the stage that writes them has not run) is skipped and noted in the run record."""

    max_tokens: int = Field(1000, ge=16)
    min_tokens: int = Field(16, ge=1)
    tokenizer: str | None = Field(None, description="tokenizer for counting; default: the generator model's")
    filters: list[str] = Field(
        default_factory=lambda: ["not coalesce(is_duplicate, false)", "coalesce(edu_int, 3) >= 3"]
    )
    limit_docs: int | None = Field(None, ge=1)


class BenchmarkInput(StrictModel):
    splits: list[str] = Field(default_factory=lambda: ["train"])
    benchmarks: list[str] | None = None


class InputDedup(StrictModel):
    """Near-duplicate inputs (m1's fuzzy prompt dedup): an input whose `field` has a fuzzy ratio >= min_ratio with an
    earlier input of the batch stream is quarantined `duplicate_input` before any token is spent."""

    field: str
    min_ratio: float = Field(95.0, gt=0, le=100)


class InputSpec(StrictModel):
    """What a declared task reads: exactly one of the synth passages, benchmark items or SQL over any warehouse view
    (including earlier tasks' tables, which makes a chain)."""

    passages: bool = False
    benchmark_items: BenchmarkInput | None = None
    sql: str | None = None
    id: str | None = Field(None, description="column identifying an input (sql inputs); default passage_id / item_id")
    limit: int | None = Field(None, ge=1)
    dedup: InputDedup | None = None
    fit: str | None = Field(
        None, description="text column shortened (at sentence ends) when the prompt does not fit the context"
    )

    @model_validator(mode="after")
    def _one(self) -> InputSpec:
        given = [k for k in ("passages", "benchmark_items", "sql") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(f"give exactly one of passages, benchmark_items, sql (got {given or 'none'})")
        if self.sql and not self.id:
            raise ValueError("an sql input needs `id`: the column that identifies an input row")
        return self


class ChoiceSpec(StrictModel):
    """Multiple-choice output: `field` holds the chosen option label. Decoding is constrained to the input's own
    labels, and the content gate checks that the reasoning concludes with that option (and, with `gate.verifier`,
    that an independent pass agrees with gold)."""

    field: str
    options: str = Field("options", description="input column of {label, text} options")
    gold: str = Field("answer", description="input column holding the gold label")
    question: str = Field("question", description="input column holding the question")


class OutputSpec(StrictModel):
    """JSON output checked against a schema (inline or a file beside the manifest), or free text run through an
    extractor (curation/synth/recipe/extractors.py). `explode` makes one row per element of an array field;
    `carry` copies input columns into every row; `rename` renames the table's columns (an output field, a carried
    column, element_index, n_passes) and `drop` leaves bookkeeping columns out of it (a table that keeps an older
    layout)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    json_schema: dict[str, Any] | str | None = Field(None, alias="schema")
    extractor: dict[str, Any] | None = None
    explode: str | None = None
    carry: list[str] = Field(default_factory=list)
    rename: dict[str, str] = Field(default_factory=dict, description="table column -> the name it is written under")
    drop: list[Literal["input_id", "element_index", "n_samples", "n_passes", "pass_rate"]] = Field(
        default_factory=list,
        description="bookkeeping columns the output table leaves out (the _items table keeps them)",
    )
    choice: ChoiceSpec | None = None

    @model_validator(mode="after")
    def _one(self) -> OutputSpec:
        if (self.json_schema is None) == (self.extractor is None):
            raise ValueError("give exactly one of schema (JSON output) or extractor (free text)")
        if self.extractor is not None:
            from curation.synth.recipe.extractors import EXTRACTORS

            EXTRACTORS.get(str(self.extractor.get("kind")))  # raises with the known kinds
        return self


class KeepSpec(StrictModel):
    """Per input, `passes` is the number of samples that produced at least one accepted row. Rows of an input are
    kept only when min_passes <= passes <= max_passes (MedVLThinker: 1..7 of 16); the `<table>_items` table records
    every input's passes either way, so a chain can read the items a weak model failed (passes = 0)."""

    min_passes: int = Field(1, ge=0)
    max_passes: int | None = Field(None, ge=0)


class DeclaredTaskConfig(StrictModel):
    """A task written in the manifest (`synth.define.<name>`): input, prompt template, output, checks, model,
    samples and keep rule (docs/recipes.md)."""

    description: str = ""
    input: InputSpec
    prompt: str = Field(
        description="template file relative to the manifest: `=== system` / `=== user` sections, Jinja2"
    )
    vars: dict[str, Any] = Field(default_factory=dict, description="extra template variables")
    output: OutputSpec
    checks: list[dict[str, Any]] = Field(default_factory=list, description="[{check: <name>, ...params}]")
    model: str | None = Field(None, description="a `models:` name; default: synth.model")
    sampling: dict[str, float | int] = Field(default_factory=dict, description="over the model's and synth.sampling")
    samples: int = Field(1, ge=1, le=64)
    keep: KeepSpec = Field(default_factory=KeepSpec)
    table: str | None = Field(None, pattern=r"^synthetic_[a-z0-9_]+$", description="default synthetic_<name>")
    after: list[str] = Field(default_factory=list, description="tasks to run first besides those input.sql reads")
    gate: GateConfig = Field(default_factory=GateConfig)

    @field_validator("checks")
    @classmethod
    def _checks(cls, v: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from curation.synth.recipe.checks import check_params

        for i, spec in enumerate(v):
            try:
                check_params(spec)
            except ValueError as e:
                raise ValueError(f"checks.{i}: {e}") from None
        return v

    @field_validator("sampling")
    @classmethod
    def _sampling_keys(cls, v: dict) -> dict:
        return sampling_overrides(v)


# A `define` entry: a prompt task, or a deterministic step (`step: <kind>`, curation/synth/recipe/steps.py).
Defined = Annotated[
    Annotated[DeclaredTaskConfig, Tag("task")] | Annotated[StepConfig, Tag("step")],
    Discriminator(lambda v: "step" if is_step(v) else "task"),
]


class EngineSettings(BaseModel):
    """How one model is served: in-process vLLM or OpenAI-compatible endpoints. A manifest's `models:` entries and
    the `synth:` section itself (its default model) share these fields."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    engine: Literal["vllm", "openai"] = "vllm"
    model: str | None = Field(None, description="HF id (already cached locally) or local model directory")
    endpoints: list[str] = Field(default_factory=list, description="OpenAI-compatible base URLs, e.g. http://h:8000/v1")
    api: Literal["chat", "completions"] = "chat"
    api_key_env: str | None = Field(None, description="environment variable holding the API key")
    concurrency: int = Field(8, ge=1)
    timeout_s: float = Field(120.0, gt=0)
    retries: int = Field(4, ge=0)
    max_model_len: int | None = Field(None, ge=128)
    gpu_memory_utilization: float = Field(0.2, gt=0, le=1, description="vLLM; on CPU the share of RAM for KV cache")
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = Field(
        "auto",
        description="vLLM weights and activations; auto = the model's own. On a CPU without AMX/AVX512-BF16, bf16 "
        "is emulated: float32 ran 3.7x faster there (docs/synth.md) at twice the weight memory",
    )

    @model_validator(mode="after")
    def _endpoints(self) -> EngineSettings:
        if self.engine == "openai" and not self.endpoints:
            raise ValueError("engine openai needs at least one entry in endpoints")
        return self


class ModelSpec(EngineSettings):
    """One entry of the manifest's top-level `models:` section: a model that recipe steps name (weak filter model,
    strong distiller, judge, teacher), with its own default sampling."""

    model: str = Field(description="HF id (already cached locally), local model directory, or served model name")
    sampling: dict[str, float | int] = Field(
        default_factory=dict, description="defaults over synth.sampling for tasks using this model"
    )

    @field_validator("sampling")
    @classmethod
    def _sampling_keys(cls, v: dict) -> dict:
        return sampling_overrides(v)


class SynthConfig(SectionsModel, EngineSettings):
    """The default generator (in-process vLLM or OpenAI-compatible endpoints, or the name of a `models:` entry), the
    tasks, sampling and limits; one section per registered task (`synth.<task>:`) validated by that task's config
    model; and `define:`, tasks declared in the manifest (docs/recipes.md)."""

    model_config = ConfigDict(extra="allow", validate_assignment=True)
    component_kind: ClassVar[str] = "task"

    tasks: list[str] = Field(
        default_factory=lambda: ["grounded_qa"],
        description="built-in (preset), plugin or declared task names (default: define's)",
    )
    define: dict[str, Defined] = Field(default_factory=dict, description="tasks and steps declared in the manifest")
    sampling: SamplingConfig = Field(default_factory=SamplingConfig)
    batch_size: int = Field(64, ge=1, description="inputs per batch (a Prefect task and an output unit)")
    cache: bool = True
    passages: PassageConfig = Field(default_factory=PassageConfig)

    @classmethod
    def section_models(cls) -> dict[str, type[BaseModel]]:
        """The built-in presets' sections (curation/synth/presets/) and plugin task classes' sections."""
        from curation.synth.presets import presets
        from curation.synth.tasks import TASKS

        return {**{t.name: t.config for t in TASKS.values()}, **{p.name: p.config for p in presets().values()}}

    @field_validator("define")
    @classmethod
    def _names(cls, v: dict[str, Any]) -> dict[str, Any]:
        builtin = cls.section_models()
        for name in v:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise ValueError(f"task name {name!r}: use lower-case letters, digits and _")
            if name in builtin:
                raise ValueError(f"task name {name!r} is a built-in task; choose another")
        return v

    @model_validator(mode="before")
    @classmethod
    def _default_tasks(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("define") and "tasks" not in data:
            data = {**data, "tasks": list(data["define"])}
        return data

    @model_validator(mode="after")
    def _known_tasks(self) -> SynthConfig:
        builtin = self.section_models()
        unknown = [n for n in self.tasks if n not in self.define and n not in builtin]
        if unknown:
            raise ValueError(
                f"tasks {unknown}: not a built-in or declared task; known: {sorted([*builtin, *self.define])}"
            )
        return self
