"""`iob_entity` (HILGEN, docs/ner.md): a generated sentence that was asked to contain an entity is kept only when
the entity occurs in it exactly, as a run of whole tokens; it is then converted to IOB, every occurrence tagged. A
sentence without the exact entity (another inflection, a paraphrase, a split word) is quarantined
`entity_not_exact`; a swap that still holds the entity it was to replace (`replaces`), `entity_not_replaced`."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from curation.config_base import StrictModel
from curation.ner.iob import Span, join_tokens, locate_all, spans_to_iob, tokenize
from curation.synth.recipe.checks import CHECKS, Check, Verdict

SPAN_TYPE = "list<struct<start: int64, end: int64, token_start: int64, token_end: int64, label: string, text: string>>"


class IOBEntityParams(StrictModel):
    field: str = Field("sentence", description="the output field holding the generated sentence")
    entity: str = Field("entity", description="input column: the entity the sentence must contain")
    label: str = Field("label", description="input column: the entity's type")
    replaces: str | None = Field(None, description="input column: an entity a swap must remove (HILGEN's swaps)")
    scheme: str = Field("iob2", pattern="^(iob1|iob2|bio)$")


def _outside(tokens: list[str], phrase: str, spans: list[Span]) -> bool:
    """Whether `phrase` occurs (any case) as a token run that is inside none of `spans`."""
    want, low = [t.lower() for t in tokenize(phrase)], [t.lower() for t in tokens]
    n = len(want)
    return any(
        low[i : i + n] == want and not any(s.token_start <= i and i + n <= s.token_end for s in spans)
        for i in range(len(low) - n + 1)
    )


@CHECKS.decorator()
class IOBEntity(Check):
    name = "iob_entity"
    params = IOBEntityParams

    def needs(self) -> tuple[set[str], set[str]]:
        return {self.p.field}, {self.p.entity, self.p.label} | ({self.p.replaces} if self.p.replaces else set())

    def columns(self) -> dict[str, str]:
        return {"text": "string", "tokens": "list<string>", "tags": "list<string>", "spans": SPAN_TYPE}

    def _spans(self, out: dict[str, Any], inp: dict[str, Any]) -> tuple[list[str], list[Span]]:
        tokens = tokenize(str(out.get(self.p.field) or ""))
        return tokens, locate_all(tokens, str(inp[self.p.entity]), str(inp[self.p.label]))

    def row(self, out: dict[str, Any], inp: dict[str, Any]) -> Verdict:
        tokens, spans = self._spans(out, inp)
        if not spans:
            return "entity_not_exact", f"no run of whole tokens equal to {inp[self.p.entity]!r}"
        if self.p.replaces and _outside(tokens, str(inp[self.p.replaces]), spans):
            return "entity_not_replaced", f"the sentence still has {inp[self.p.replaces]!r} besides the new entity"
        return None

    def measure(self, out: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
        tokens, spans = self._spans(out, inp)
        return {
            "text": join_tokens(tokens),
            "tokens": tokens,
            "tags": spans_to_iob(tokens, spans, self.p.scheme),
            "spans": [s.row() for s in spans],
        }
