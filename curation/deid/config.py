"""Settings of the de-identification stage (manifest key `deid`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from curation.config_base import StrictModel

SECRET_ENV = "MEDCURATE_DEID_SECRET"


class DeidLLMConfig(StrictModel):
    """The optional LLM recognizer (DeID-GPT style, curation/deid/llm.py): an in-process vLLM model or local
    OpenAI-compatible servers. Raw notes are sent to it and no response cache is used."""

    engine: Literal["vllm", "openai"] = "vllm"
    model: str = Field(description="local model directory or a Hugging Face id already in the local cache")
    endpoints: list[str] = Field(default_factory=list, description="for engine openai: base URLs on this network")
    max_model_len: int | None = Field(None, ge=128)
    max_tokens: int = Field(512, ge=16)
    batch_size: int = Field(32, ge=1)


class DeidConfig(StrictModel):
    """- recognizers: `pattern` finds the pattern classes only (dates, numbers, contacts, addresses on the web);
      `full` adds names, locations and organizations (context rules and dictionaries, curation/deid/ner.py).
    - replace: `surrogate` writes a fake value of the same type (consistent per patient); `placeholder` writes
      `[CLASS]`.
    - shift_days: the range of the per-patient date offset in days (both ends included; 0 must not be in it).
    - min_confidence: detections below it are ignored.
    - llm: add the LLM recognizer (off by default).
    - secret_env: environment variable with the HMAC key behind surrogates and offsets; unset, a random key is
      created once in <warehouse>/.deid_secret (keep it private: with it, a surrogate can be tested against a
      guessed value).
    """

    recognizers: Literal["pattern", "full"] = "full"
    replace: Literal["surrogate", "placeholder"] = "surrogate"
    shift_days: tuple[int, int] = (-365, -30)
    min_confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    secret_env: str = SECRET_ENV
    batch_rows: int = Field(default=2000, ge=1)
    llm: DeidLLMConfig | None = None

    @model_validator(mode="after")
    def _check(self) -> DeidConfig:
        lo, hi = self.shift_days
        if lo > hi:
            raise ValueError(f"shift_days: {lo} > {hi}")
        if lo <= 0 <= hi:
            raise ValueError(f"shift_days: the range {lo}..{hi} contains 0 (a date could stay unshifted)")
        return self
