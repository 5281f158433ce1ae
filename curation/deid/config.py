"""Settings of the de-identification stage (manifest key `deid`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from curation.config_base import StrictModel

SECRET_ENV = "MEDCURATE_DEID_SECRET"


class DeidConfig(StrictModel):
    """- recognizers: `pattern` finds the pattern classes only (dates, numbers, contacts, addresses on the web);
      `full` adds names, locations and organizations (context rules and dictionaries, curation/deid/ner.py).
    - replace: `surrogate` writes a fake value of the same type (consistent per patient); `placeholder` writes
      `[CLASS]`.
    - shift_days: the range of the per-patient date offset in days (both ends included; 0 must not be in it).
    - min_confidence: detections below it are ignored.
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

    @model_validator(mode="after")
    def _check(self) -> DeidConfig:
        lo, hi = self.shift_days
        if lo > hi:
            raise ValueError(f"shift_days: {lo} > {hi}")
        if lo <= 0 <= hi:
            raise ValueError(f"shift_days: the range {lo}..{hi} contains 0 (a date could stay unshifted)")
        return self
