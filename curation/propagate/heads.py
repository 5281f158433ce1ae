"""Label heads of a propagation job: one per label the teacher gives and the student predicts.

Each kind says how a teacher's value becomes a training target (or is rejected with a reason), which loss trains it,
which columns the propagated table gets, and how the student's held-out agreement with the teacher is measured:

| kind | teacher's value | loss | columns | held-out metrics |
|---|---|---|---|---|
| score | a number in `range` (FineWeb-Edu's 1-5) | MSE | `<h>_score`, `<h>_int` | MAE, Pearson r, exact int |
| category | one of `classes` ("Clinical Case" = clinical_case) | cross-entropy | `<h>`, `<h>_prob` | accuracy, macro-F1 |
| binary | bool, 0/1, or a `positive` / `negative` word | BCE | `<h>_prob`, `<h>` | accuracy, P/R/F1, AUC |
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field, model_validator
from scipy.stats import mannwhitneyu

from curation.config_base import StrictModel
from curation.quality.edu_model import DOC_TYPES, DOMAINS
from curation.quality.edu_score import softmax
from curation.quality.edu_train import f1_macro
from curation.warehouse.schemas import Column

CODE = r"^[a-z0-9]+(_[a-z0-9]+)*$"


def code(value: Any) -> str:
    """A teacher's string as a label code: lower-cased, every run of non-letters/digits one underscore."""
    return re.sub(r"[^a-z0-9]+", "_", str(value or "").strip().lower()).strip("_")


def _number(value: Any) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


class ScoreHead(StrictModel):
    """A number on a scale: regression, rounded and clipped to the scale for `<name>_int`."""

    kind: Literal["score"]
    range: tuple[float, float] = Field(description="[low, high]: a label outside it is rejected")

    @model_validator(mode="after")
    def _ordered(self) -> ScoreHead:
        if not self.range[0] < self.range[1]:
            raise ValueError(f"range: low must be below high, got {list(self.range)}")
        return self

    width: ClassVar[int] = 1

    def reason(self, name: str) -> str:
        return f"label_{name}_out_of_range"

    def target(self, value: Any) -> float | None:
        v = _number(value)
        return v if v is not None and self.range[0] <= v <= self.range[1] else None

    def init_bias(self, bias: torch.Tensor, y: torch.Tensor) -> None:
        bias.fill_(float(y.mean()))  # start at the label mean: the head then only learns deviations

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(out.squeeze(-1), y)

    def _int(self, s: np.ndarray) -> np.ndarray:
        return np.clip(np.round(s), math.ceil(self.range[0]), math.floor(self.range[1])).astype(int)

    def columns(self, name: str) -> list[Column]:
        lo, hi = self.range
        return [
            Column(f"{name}_score", "float32", False, f"regression output, {lo:g}-{hi:g} scale"),
            Column(f"{name}_int", "int32", False, f"{name}_score rounded and clipped to the scale"),
        ]

    def values(self, name: str, raw: np.ndarray) -> list[dict[str, Any]]:
        s = raw.reshape(-1).astype(float)
        ints = self._int(np.nan_to_num(s))
        return [{f"{name}_score": float(v), f"{name}_int": int(i)} for v, i in zip(s, ints, strict=True)]

    def metrics(self, raw: np.ndarray, y: np.ndarray) -> dict[str, Any]:
        s = raw.reshape(-1).astype(float)
        r = float(np.corrcoef(s, y)[0, 1]) if len(y) > 1 and y.std() > 0 and s.std() > 0 else None
        return {
            "mae": float(np.abs(s - y).mean()),
            "pearson_r": r,
            "exact_int": float((self._int(s) == self._int(y)).mean()),
        }


class CategoryHead(StrictModel):
    """One of a fixed set of classes: a softmax head; `<name>_prob` is the chosen class's probability."""

    kind: Literal["category"]
    classes: list[Annotated[str, Field(pattern=CODE)]] = Field(
        min_length=2, description="label codes; a teacher's 'Clinical Case' matches clinical_case"
    )

    @property
    def width(self) -> int:
        return len(self.classes)

    def reason(self, name: str) -> str:
        return f"label_unknown_{name}"

    def target(self, value: Any) -> int | None:
        c = code(value)
        return self.classes.index(c) if c in self.classes else None

    def init_bias(self, bias: torch.Tensor, y: torch.Tensor) -> None:
        """Uniform start (the default initialisation is kept)."""

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(out, y.long())

    def columns(self, name: str) -> list[Column]:
        return [
            Column(name, "string", False, " | ".join(self.classes)),
            Column(f"{name}_prob", "float32", False, f"the student's probability of {name}"),
        ]

    def values(self, name: str, raw: np.ndarray) -> list[dict[str, Any]]:
        p = softmax(raw)
        return [
            {name: self.classes[int(k)], f"{name}_prob": float(row[k])} for row, k in zip(p, p.argmax(-1), strict=True)
        ]

    def metrics(self, raw: np.ndarray, y: np.ndarray) -> dict[str, Any]:
        pred = raw.argmax(-1)
        return {
            "accuracy": float((pred == y).mean()),
            "f1_macro": f1_macro(y.astype(int), pred, range(len(self.classes))),
        }


class BinaryHead(StrictModel):
    """Yes or no (MIRIAD's relevance): a logistic head; `<name>` is `<name>_prob >= threshold`."""

    kind: Literal["binary"]
    threshold: float = Field(default=0.5, gt=0, lt=1)
    positive: list[str] = Field(default=["true", "yes"], description="teacher strings read as yes (as codes)")
    negative: list[str] = Field(default=["false", "no"], description="teacher strings read as no (as codes)")

    width: ClassVar[int] = 1

    def reason(self, name: str) -> str:
        return f"label_unknown_{name}"

    def target(self, value: Any) -> float | None:
        if isinstance(value, bool):
            return float(value)
        if _number(value) in (0.0, 1.0):
            return float(value)
        c = code(value) if isinstance(value, str) else None
        pos, neg = {code(p) for p in self.positive}, {code(n) for n in self.negative}
        return 1.0 if c in pos else 0.0 if c in neg else None

    def init_bias(self, bias: torch.Tensor, y: torch.Tensor) -> None:
        p = float(y.mean().clamp(0.02, 0.98))  # start at the teacher's base rate
        bias.fill_(math.log(p / (1 - p)))

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(out.squeeze(-1), y)

    def columns(self, name: str) -> list[Column]:
        return [
            Column(f"{name}_prob", "float32", False, f"the student's probability that {name} holds"),
            Column(name, "bool", False, f"{name}_prob >= {self.threshold:g}"),
        ]

    def values(self, name: str, raw: np.ndarray) -> list[dict[str, Any]]:
        p = sigmoid(raw.reshape(-1))
        return [{f"{name}_prob": float(v), name: bool(v >= self.threshold)} for v in p]

    def metrics(self, raw: np.ndarray, y: np.ndarray) -> dict[str, Any]:
        p = sigmoid(raw.reshape(-1))
        pred, truth = p >= self.threshold, y >= 0.5
        tp, fp, fn = int((pred & truth).sum()), int((pred & ~truth).sum()), int((~pred & truth).sum())
        both = 0 < truth.sum() < len(truth)  # AUC needs both classes among the held-out labels
        return {
            "accuracy": float((pred == truth).mean()),
            "precision": tp / (tp + fp) if tp + fp else None,
            "recall": tp / (tp + fn) if tp + fn else None,
            "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None,
            "auc": float(mannwhitneyu(p[truth], p[~truth]).statistic / (truth.sum() * (~truth).sum()))
            if both
            else None,
            "teacher_positive_rate": float(truth.mean()),
            "student_positive_rate": float(pred.mean()),
        }


Head = Annotated[ScoreHead | CategoryHead | BinaryHead, Field(discriminator="kind")]


def edu_heads() -> dict[str, Head]:
    """Biomed-Enriched's labels (the score stage's educational classifier): the default heads of a job."""
    return {
        "edu": ScoreHead(kind="score", range=(1, 5)),
        "doc_type": CategoryHead(kind="category", classes=list(DOC_TYPES)),
        "domain": CategoryHead(kind="category", classes=list(DOMAINS)),
    }


def output_columns(heads: dict[str, Head]) -> list[Column]:
    return [c for name, h in heads.items() for c in h.columns(name)]


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x.astype(float)))
