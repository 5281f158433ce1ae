"""Checks for questions written from knowledge-graph chains (MedResearcher-R1): the answer must not be given away
in the question, a model given the chain must reach the answer, and a model without it should not."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from curation.config_base import StrictModel
from curation.kg.linking import normalize
from curation.synth.recipe.checks import CHECKS, Check, Pair, Verdict

if TYPE_CHECKING:
    from curation.synth.engine import Engine


class LeakParams(StrictModel):
    field: str = Field("question", description="the output field that must not name the answer")
    answer: str = Field("end_name", description="the input column holding the answer")


@CHECKS.decorator()
class AnswerLeak(Check):
    """The question names its own answer (normalised as entity linking does)."""

    name = "answer_leak"
    params = LeakParams

    def needs(self) -> tuple[set[str], set[str]]:
        return {self.p.field}, {self.p.answer}

    def row(self, out: dict[str, Any], inp: dict[str, Any]) -> Verdict:
        if normalize(str(inp.get(self.p.answer) or "")) in normalize(str(out.get(self.p.field) or "")):
            return "answer_in_question", f"the {self.p.field} names the answer {inp.get(self.p.answer)!r}"
        return None


class AnswerableParams(StrictModel):
    model: str | None = Field(None, description="a `models:` name; default: the task's model")
    field: str = Field("question", description="the output field holding the question")
    answer: str = Field("end_name", description="the input column holding the answer")
    chain: str | None = Field(
        "chain", description="input column with the chain given to the model; null: asked without it (closed book)"
    )
    max_tokens: int = Field(32, ge=4)


def _answers(answer: str, gold: str) -> bool:
    """The reply names the gold entity (or is a longer form of it): normalised containment either way."""
    a, g = normalize(answer), normalize(gold)
    return bool(a) and bool(g) and (g in a or (len(a) >= 4 and a in g))


@CHECKS.decorator()
class KgAnswerable(Check):
    """With `chain`: a model reading the chain's facts must answer with the chain's end (`not_answerable`
    otherwise). With `chain: null`: a model without the facts must fail (`answerable_without_chain` when it
    answers right), so kept questions need the hops."""

    name = "kg_answerable"
    params = AnswerableParams
    uses_model = True

    def needs(self) -> tuple[set[str], set[str]]:
        return {self.p.field}, {self.p.answer} | ({self.p.chain} if self.p.chain else set())

    def model_name(self) -> str | None:
        return self.p.model

    def batch(self, engine: Engine, pairs: list[Pair]) -> list[Verdict]:
        from curation.synth.engine import Sampling

        schema = {
            "type": "object",
            "properties": {"answer": {"type": "string", "maxLength": 120}},
            "required": ["answer"],
            "additionalProperties": False,
        }
        system = 'Answer the medical question with the name of one entity only. Reply with JSON: {"answer": "..."}.'
        msgs = []
        for out, inp in pairs:
            facts = f"Facts: {inp[self.p.chain]}\n" if self.p.chain else ""
            user = f"{facts}Question: {out.get(self.p.field)}"
            msgs.append([{"role": "system", "content": system}, {"role": "user", "content": user}])
        verdicts: list[Verdict] = []
        results = engine.generate(msgs, Sampling(0.0, 1.0, self.p.max_tokens, 0), schema)
        for (_, inp), res in zip(pairs, results, strict=True):
            said = str(res.parsed.get("answer", "")) if isinstance(res.parsed, dict) else ""
            right = _answers(said, str(inp[self.p.answer]))
            if self.p.chain and not right:
                verdicts.append(("not_answerable", f"with the chain the model answered {said!r}"))
            elif not self.p.chain and right:
                verdicts.append(("answerable_without_chain", f"without the chain the model answered {said!r}"))
            else:
                verdicts.append(None)
        return verdicts
