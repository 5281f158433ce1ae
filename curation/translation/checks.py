"""`chrf` (BiMed1.3M, docs/recipes/bimed.md): the character n-gram F-score (sacrebleu's chrF, 0-100) of a
back-translation against the original text. It adds the score as a column, so a later task can refine the pairs
that scored low; with `min` it also quarantines them (`low_chrf`)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from curation.config_base import StrictModel
from curation.synth.recipe.checks import CHECKS, Check, Verdict


class ChrFParams(StrictModel):
    field: str = Field("back_translation", description="the output field: the text translated back")
    source: str = Field("text", description="input column: the original the back-translation is compared with")
    column: str = Field("chrf", pattern=r"^[a-z][a-z0-9_]*$", description="the added score column")
    min: float | None = Field(None, ge=0, le=100, description="quarantine below this score (default: keep all)")


@CHECKS.decorator()
class ChrF(Check):
    name = "chrf"
    params = ChrFParams

    def needs(self) -> tuple[set[str], set[str]]:
        return {self.p.field}, {self.p.source}

    def columns(self) -> dict[str, str]:
        return {self.p.column: "float64"}

    def _score(self, out: dict[str, Any], inp: dict[str, Any]) -> float:
        from sacrebleu.metrics import CHRF

        hyp, ref = str(out.get(self.p.field) or ""), str(inp.get(self.p.source) or "")
        return round(float(CHRF().sentence_score(hyp, [ref]).score), 2)

    def row(self, out: dict[str, Any], inp: dict[str, Any]) -> Verdict:
        if self.p.min is None:
            return None
        score = self._score(out, inp)
        return None if score >= self.p.min else ("low_chrf", f"chrF {score} < {self.p.min}")

    def measure(self, out: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
        return {self.p.column: self._score(out, inp)}
