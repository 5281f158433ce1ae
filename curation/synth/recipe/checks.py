"""The check registry: named, parameterised checks a declared task lists under `checks:`. A check reads output
fields (`field`, the model's) and input columns (`gold`, `source`, ...) of a candidate row and returns None or
(reason, detail); the row is then quarantined with that reason and its raw output. Row checks run first, model
checks (judge, verifier) batched on what survives, each with its own model from `models:`.

    checks:
      - {check: answer_match, field: answer, gold: answer}
      - {check: reject_pattern, field: answer, pattern: "(?i)\\bthe (passage|study)\\b", reason: refers_to_source}
      - {check: length, field: question, min_chars: 12, max_chars: 400}
      - {check: grounding, field: answer, source: text, min: 0.5}
      - {check: language, field: answer, language: ar}
      - {check: distinct, field: question}
      - {check: judge, model: judge, prompt: prompts/judge.txt, passing: [good]}
      - {check: verifier, model: judge, field: reasoning}
      - {check: turns, roles: [patient, doctor], min_turns: 4, column: n_turns}
      - {check: choice_item, options: options, gold: answer}     # an input check, before generation

Plugins add checks through the entry-point group `medcurate.checks`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, Field, field_validator, model_validator

from curation.config_base import StrictModel
from curation.registry import Registry
from curation.synth.textcheck import grounding_score

if TYPE_CHECKING:
    from curation.synth.engine import Engine

CHECKS: Registry[Any] = Registry("checks", scan=("curation.synth.recipe.checks", "curation.*.checks"))
Verdict = tuple[str, str] | None
Pair = tuple[dict[str, Any], dict[str, Any]]  # (output fields of one row, its input row)


class Check:
    name: ClassVar[str]
    params: ClassVar[type[BaseModel]]
    uses_model: ClassVar[bool] = False
    on_input: ClassVar[bool] = False  # runs on the input before any token is spent (`input()`), not on outputs

    def __init__(self, p: Any, base_dir: Path):
        self.p = p
        self.base_dir = base_dir

    def needs(self) -> tuple[set[str], set[str]]:
        """(output fields, input columns) the check reads: the planner checks they exist."""
        return set(), set()

    def row(self, out: dict[str, Any], inp: dict[str, Any]) -> Verdict:
        return None

    def input(self, inp: dict[str, Any]) -> Verdict:
        return None

    def reset(self) -> None:
        """Called before each input's outputs are checked (a stateful check forgets the previous input)."""

    def columns(self) -> dict[str, str]:
        """Columns the check derives for every accepted row (name -> schema type), e.g. a grounding score or the
        spans it found in the output."""
        return {}

    def measure(self, out: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
        """The values of `columns()` for a row that passed every row check."""
        return {}

    def model_name(self) -> str | None:
        return None

    def batch(self, engine: Engine, pairs: list[Pair]) -> list[Verdict]:
        return [None] * len(pairs)


def check_params(spec: dict[str, Any]) -> tuple[type[Check], BaseModel]:
    """A check's class and validated parameters. `enabled: false` (any check) switches it off, so a preset option
    can toggle one."""
    if "check" not in spec:
        raise ValueError(f"a check needs `check: <name>`; known: {CHECKS.names()}")
    if not isinstance(spec.get("enabled", True), bool):
        raise ValueError(f"enabled: {spec['enabled']!r} is not true or false")
    cls = CHECKS.get(str(spec["check"]))
    return cls, cls.params.model_validate({k: v for k, v in spec.items() if k not in ("check", "enabled")})


def make_check(spec: dict[str, Any], base_dir: Path) -> Check | None:
    """The check, or None when it is switched off."""
    cls, p = check_params(spec)
    return cls(p, base_dir) if spec.get("enabled", True) else None


Where = dict[str, Any]


def field_text(value: Any, where: Where | None = None) -> str:
    """A field's text: a string as is; a list (dialogue turns) as the model-written strings of its elements that
    match `where` (e.g. {role: doctor}), one per line."""
    if not isinstance(value, list):
        return str(value or "")
    from curation.synth.gate import generated_strings

    keep = [v for v in value if not where or (isinstance(v, dict) and all(v.get(k) == w for k, w in where.items()))]
    return "\n".join(generated_strings(keep))


_LABEL = re.compile(r"^\W*(?:(?:answer|option|choice)\s*(?:is|:)?\s*)?\(?([A-J])\)?(?:[.):\s]|$)", re.IGNORECASE)


def _norm_text(s: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", s.lower()).split())


def answer_label(answer: str, options: list[dict] | None) -> str | None:
    """The option label an answer names: a bare or decorated letter (`B`, `(B)`, `B. text`, `Answer: B`) or the exact
    text of one option."""
    m = _LABEL.match(answer.strip())
    if m:
        return m.group(1).upper()
    for o in options or []:
        if _norm_text(answer) == _norm_text(o["text"]):
            return str(o["label"])
    return None


class AnswerMatchParams(StrictModel):
    field: str = "answer"
    gold: str = Field("answer", description="input column holding the gold answer")
    options: str | None = Field("options", description="input column of {label, text} options, if any")
    mode: str = Field("auto", pattern="^(auto|label|text|number)$")
    tolerance: float = Field(1e-6, ge=0, description="number mode: absolute tolerance")
    reason: str = Field("answer_mismatch", pattern=r"^[a-z][a-z0-9_]*$")


@CHECKS.decorator()
class AnswerMatch(Check):
    """The extracted answer equals the gold answer: as an option label (letters or the option's text), as a number,
    or as normalised text. `auto` uses labels when the input has options."""

    name = "answer_match"
    params = AnswerMatchParams

    def needs(self) -> tuple[set[str], set[str]]:
        return {self.p.field}, {self.p.gold} | ({self.p.options} if self.p.mode in ("auto", "label") else set())

    def row(self, out: dict[str, Any], inp: dict[str, Any]) -> Verdict:
        answer, gold = str(out.get(self.p.field) or ""), str(inp.get(self.p.gold) or "")
        options = inp.get(self.p.options) if self.p.options else None
        mode = self.p.mode if self.p.mode != "auto" else ("label" if options else "text")
        if mode == "label":
            got = answer_label(answer, options)
            ok = got is not None and got == answer_label(gold, options)
        elif mode == "number":
            try:
                ok = abs(float(answer.replace(",", "")) - float(gold)) <= self.p.tolerance
            except ValueError:
                got, ok = None, False
        else:
            ok = _norm_text(answer) == _norm_text(gold)
        return None if ok else (self.p.reason, f"answer {answer[:80]!r} != gold {gold!r}")


class RejectPatternParams(StrictModel):
    field: str | list[str]
    pattern: str
    reason: str = Field("rejected_pattern", pattern=r"^[a-z][a-z0-9_]*$")
    where: Where | None = Field(None, description="list fields: only elements matching these keys, e.g. {role: doctor}")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as e:
            raise ValueError(f"invalid regex: {e}") from None
        return v


def _fields(f: str | list[str]) -> list[str]:
    return [f] if isinstance(f, str) else list(f)


@CHECKS.decorator()
class RejectPattern(Check):
    """MIRIAD's answer-side filter and the like: a field matching the pattern is rejected with `reason`."""

    name = "reject_pattern"
    params = RejectPatternParams

    def needs(self) -> tuple[set[str], set[str]]:
        return set(_fields(self.p.field)), set()

    def row(self, out: dict[str, Any], inp: dict[str, Any]) -> Verdict:
        for f in _fields(self.p.field):
            m = re.search(self.p.pattern, field_text(out.get(f), self.p.where))
            if m:
                return self.p.reason, f"{f} matches {m.group(0)!r}"
        return None


class LengthParams(StrictModel):
    field: str
    min_chars: int = Field(0, ge=0)
    max_chars: int | None = Field(None, ge=1)
    min_words: int = Field(0, ge=0)
    max_words: int | None = Field(None, ge=1)


@CHECKS.decorator()
class Length(Check):
    name = "length"
    params = LengthParams

    def needs(self) -> tuple[set[str], set[str]]:
        return {self.p.field}, set()

    def row(self, out: dict[str, Any], inp: dict[str, Any]) -> Verdict:
        text = str(out.get(self.p.field) or "").strip()
        n_words = len(text.split())
        f = self.p.field
        if len(text) < self.p.min_chars or n_words < self.p.min_words:
            return f"{f}_too_short", f"{len(text)} chars, {n_words} words"
        if (self.p.max_chars and len(text) > self.p.max_chars) or (self.p.max_words and n_words > self.p.max_words):
            return f"{f}_too_long", f"{len(text)} chars, {n_words} words"
        return None


class GroundingParams(StrictModel):
    field: str = "answer"
    source: str = Field("text", description="input column the field must be grounded in")
    min: float = Field(0.5, ge=0, le=1)
    where: Where | None = Field(None, description="list fields: only elements matching these keys, e.g. {role: doctor}")
    column: str | None = Field(None, description="record the score in this column of every accepted row")


@CHECKS.decorator()
class Grounding(Check):
    """Share of the field's content words found in the source column (curation/synth/textcheck.py)."""

    name = "grounding"
    params = GroundingParams

    def needs(self) -> tuple[set[str], set[str]]:
        return {self.p.field}, {self.p.source}

    def score(self, out: dict[str, Any], inp: dict[str, Any]) -> float:
        return grounding_score(field_text(out.get(self.p.field), self.p.where), str(inp.get(self.p.source) or ""))

    def row(self, out: dict[str, Any], inp: dict[str, Any]) -> Verdict:
        score = self.score(out, inp)
        return None if score >= self.p.min else ("not_grounded", f"grounding {score:.2f} < {self.p.min}")

    def columns(self) -> dict[str, str]:
        return {self.p.column: "float64"} if self.p.column else {}

    def measure(self, out: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
        return {self.p.column: round(self.score(out, inp), 4)} if self.p.column else {}


class LanguageParams(StrictModel):
    field: str | list[str]
    language: str = Field(pattern=r"^[a-z]{2,3}$")
    min_score: float = Field(0.5, ge=0, le=1)


@CHECKS.decorator()
class Language(Check):
    """The field is in the expected language (a translation's target side, say), by the cleaner's language id."""

    name = "language"
    params = LanguageParams

    def needs(self) -> tuple[set[str], set[str]]:
        return set(_fields(self.p.field)), set()

    def row(self, out: dict[str, Any], inp: dict[str, Any]) -> Verdict:
        from curation.clean.langid import detect_language

        for f in _fields(self.p.field):
            lang, score = detect_language(str(out.get(f) or ""))
            if lang != self.p.language or score < self.p.min_score:
                return "wrong_language", f"{f}: detected {lang} ({score:.2f}), expected {self.p.language}"
        return None


class DistinctParams(StrictModel):
    field: str
    reason: str = Field("duplicate_output", pattern=r"^[a-z][a-z0-9_]*$")


@CHECKS.decorator()
class Distinct(Check):
    """No two rows of one input share the field's normalised value (the same question twice for one passage).
    Stateful within one input (`reset` per input); list it last, so a row another check rejects is not seen."""

    name = "distinct"
    params = DistinctParams

    def __init__(self, p: Any, base_dir: Path):
        super().__init__(p, base_dir)
        self.seen: set[str] = set()

    def reset(self) -> None:
        self.seen = set()

    def needs(self) -> tuple[set[str], set[str]]:
        return {self.p.field}, set()

    def row(self, out: dict[str, Any], inp: dict[str, Any]) -> Verdict:
        key = _norm_text(str(out.get(self.p.field) or ""))
        if key in self.seen:
            return self.p.reason, f"same {self.p.field} twice for one input"
        self.seen.add(key)
        return None


class JudgeParams(StrictModel):
    model: str | None = Field(None, description="a `models:` name; default: the task's model")
    prompt: str = Field(description="rubric template beside the manifest; sees input columns and output fields")
    verdicts: list[str] = Field(default_factory=lambda: ["good", "bad"], min_length=2)
    passing: list[str] = Field(default_factory=lambda: ["good"], min_length=1)
    max_tokens: int = Field(160, ge=8)


JUDGE_REASON = {"type": "string", "maxLength": 300}


@CHECKS.decorator()
class Judge(Check):
    """An LLM judge with its own model and rubric (MIRIAD's relevance filter, a quality judge): the verdict must be
    one of `passing`; an unusable verdict is `judge_failed`."""

    name = "judge"
    params = JudgeParams
    uses_model = True

    def model_name(self) -> str | None:
        return self.p.model

    def template(self) -> Any:
        from curation.synth.recipe.templates import load_template

        return load_template(self.base_dir / self.p.prompt)

    def batch(self, engine: Engine, pairs: list[Pair]) -> list[Verdict]:
        from curation.synth.engine import Sampling, schema_errors

        schema = {
            "type": "object",
            "properties": {"verdict": {"type": "string", "enum": self.p.verdicts}, "reason": JUDGE_REASON},
            "required": ["verdict", "reason"],
            "additionalProperties": False,
        }
        tpl = self.template()
        msgs = [tpl.render({**inp, **out}, {}) for out, inp in pairs]
        results = engine.generate(msgs, Sampling(0.0, 1.0, self.p.max_tokens, 0), schema)
        verdicts: list[Verdict] = []
        for res in results:
            if not isinstance(res.parsed, dict) or schema_errors(res.parsed, schema):
                verdicts.append(("judge_failed", f"unusable verdict: {res.text[:200]!r} {res.error}".strip()))
            elif res.parsed["verdict"] not in self.p.passing:
                verdicts.append(("judge_rejected", f"{res.parsed['verdict']}: {res.parsed['reason']}"))
            else:
                verdicts.append(None)
        return verdicts


class VerifierParams(StrictModel):
    model: str | None = None
    field: str = Field("reasoning", description="the output field the verifier reads")
    question: str = "question"
    options: str = "options"
    gold: str = "answer"


@CHECKS.decorator()
class Verifier(Check):
    """MedReason's check: an independent pass answers the multiple-choice question from the reasoning alone (not the
    chosen answer) and must agree with gold."""

    name = "verifier"
    params = VerifierParams
    uses_model = True

    def needs(self) -> tuple[set[str], set[str]]:
        return {self.p.field}, {self.p.question, self.p.options, self.p.gold}

    def model_name(self) -> str | None:
        return self.p.model

    def batch(self, engine: Engine, pairs: list[Pair]) -> list[Verdict]:
        from curation.synth.gate import GateInput, verify_answers

        items = [GateInput({"reasoning": str(out.get(self.p.field) or "")}, inp[self.p.options]) for out, inp in pairs]
        answers = verify_answers(engine, items, [str(inp[self.p.question]) for _, inp in pairs])
        out: list[Verdict] = []
        for (_, inp), ans in zip(pairs, answers, strict=True):
            gold = answer_label(str(inp[self.p.gold]), inp[self.p.options])
            out.append(None if ans == gold else ("verifier_disagrees", f"verifier answered {ans}, gold {gold}"))
        return out


class TurnsParams(StrictModel):
    field: str = "turns"
    roles: list[str] = Field(
        default_factory=lambda: ["patient", "doctor"], min_length=2, description="in speaking order"
    )
    min_turns: int = Field(2, ge=1)
    max_turns: int | None = Field(None, ge=1)
    min_chars: int = Field(1, ge=0, description="of each turn's text")
    column: str | None = Field(None, description="record the number of turns in this column")

    @model_validator(mode="after")
    def _range(self) -> TurnsParams:
        if self.max_turns is not None and self.min_turns > self.max_turns:
            raise ValueError(f"min_turns {self.min_turns} > max_turns {self.max_turns}")
        return self


@CHECKS.decorator()
class Turns(Check):
    """A conversation (a list of {role, text}): the turn count in range, the first role opens, the roles take turns
    in order, no turn shorter than min_chars."""

    name = "turns"
    params = TurnsParams

    def needs(self) -> tuple[set[str], set[str]]:
        return {self.p.field}, set()

    def row(self, out: dict[str, Any], inp: dict[str, Any]) -> Verdict:
        turns = [t if isinstance(t, dict) else {} for t in out.get(self.p.field) or []]
        roles, n = self.p.roles, len(turns)
        if n < self.p.min_turns:
            return f"too_few_{self.p.field}", f"{n} < {self.p.min_turns}"
        if self.p.max_turns is not None and n > self.p.max_turns:
            return f"too_many_{self.p.field}", f"{n} > {self.p.max_turns}"
        for i, t in enumerate(turns):
            expected = roles[i % len(roles)]
            if t.get("role") != expected:
                if i == 0:
                    return f"{t.get('role')}_speaks_first", f"the {expected} opens the conversation"
                return "roles_not_alternating", f"turn {i} is {t.get('role')!r}, expected {expected!r}"
            if len(str(t.get("text") or "").strip()) < self.p.min_chars:
                return "empty_turn", f"turn {i}"
        return None

    def columns(self) -> dict[str, str]:
        return {self.p.column: "int32"} if self.p.column else {}

    def measure(self, out: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
        return {self.p.column: len(out.get(self.p.field) or [])} if self.p.column else {}


class ChoiceItemParams(StrictModel):
    options: str = Field("options", description="input column of {label, text} options")
    gold: str = Field("answer", description="input column holding the gold label")
    min_options: int = Field(2, ge=1)


@CHECKS.decorator()
class ChoiceItem(Check):
    """An input check: a multiple-choice item has options and a gold answer among their labels (`no_options`,
    `no_gold_answer`), before any token is spent on it."""

    name = "choice_item"
    params = ChoiceItemParams
    on_input = True

    def needs(self) -> tuple[set[str], set[str]]:
        return set(), {self.p.options, self.p.gold}

    def input(self, inp: dict[str, Any]) -> Verdict:
        labels = [str(o["label"]) for o in inp.get(self.p.options) or []]
        ref = f" ({inp['source_ref']})" if inp.get("source_ref") else ""
        if len(labels) < self.p.min_options:
            return "no_options", f"not multiple-choice: {len(labels)} options{ref}"
        if inp.get(self.p.gold) not in labels:
            return "no_gold_answer", f"gold {inp.get(self.p.gold)!r} is not one of {labels}{ref}"
        return None


def describe(checks: list[Check]) -> list[dict[str, Any]]:
    """For the run record: each check's name and parameters."""
    return [{"check": c.name, **json.loads(c.p.model_dump_json())} for c in checks]
