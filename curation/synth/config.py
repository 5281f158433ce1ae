"""Manifest settings for synthetic data generation (manifest key `synth`)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from curation.config_base import SectionsModel, StrictModel


class SamplingConfig(StrictModel):
    temperature: float = Field(0.7, ge=0)
    top_p: float = Field(0.95, gt=0, le=1)
    max_tokens: int = Field(512, ge=1)
    seed: int = 0


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


class SynthConfig(SectionsModel):
    """The generator (in-process vLLM or OpenAI-compatible endpoints), the tasks, sampling and limits; then one
    section per registered task (`synth.<task>:`) validated by that task's config model."""

    component_kind: ClassVar[str] = "task"

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
    tasks: list[str] = Field(default_factory=lambda: ["grounded_qa"], description="registered task names")
    sampling: SamplingConfig = Field(default_factory=SamplingConfig)
    batch_size: int = Field(64, ge=1, description="inputs per batch (a Prefect task and an output unit)")
    cache: bool = True
    passages: PassageConfig = Field(default_factory=PassageConfig)

    @classmethod
    def section_models(cls) -> dict[str, type[BaseModel]]:
        from curation.synth.tasks import TASKS

        return {t.name: t.config for t in TASKS.values()}

    @field_validator("tasks")
    @classmethod
    def _registered(cls, v: list[str]) -> list[str]:
        from curation.synth.tasks import TASKS

        for name in v:
            TASKS.get(name)  # raises with the known names
        return v

    @model_validator(mode="after")
    def _check(self) -> SynthConfig:
        if self.engine == "openai" and not self.endpoints:
            raise ValueError("engine openai needs at least one entry in endpoints")
        return self
