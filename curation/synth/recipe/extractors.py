"""Extractors turn a free-text answer into named string fields (the declared task's output columns). An extractor
that finds nothing returns None, and the sample is quarantined `no_answer_extracted` with the raw output.

    output: {extractor: {kind: boxed}}                                   -> reasoning, answer
    output: {extractor: {kind: think_answer}}                            -> reasoning, answer
    output: {extractor: {kind: sections, sections: {reasoning: "Reasoning Process:", answer: "Conclusion:"}}}
    output: {extractor: {kind: regex, pattern: "Answer: (?P<answer>[A-E])"}}
    output: {extractor: {kind: text, field: note}}                       -> note (the whole output)

Plugins add kinds through the entry-point group `medcurate.extractors`.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import BaseModel, Field, field_validator

from curation.config_base import StrictModel
from curation.registry import Registry

EXTRACTORS: Registry[Any] = Registry("extractors", scan=("curation.synth.recipe.extractors", "curation.*.extractors"))


class Extractor:
    name: ClassVar[str]
    params: ClassVar[type[BaseModel]]

    def __init__(self, p: Any):
        self.p = p

    def fields(self) -> list[str]:
        raise NotImplementedError

    def extract(self, text: str) -> dict[str, str] | None:
        raise NotImplementedError


def make_extractor(spec: dict[str, Any]) -> Extractor:
    cls = EXTRACTORS.get(str(spec.get("kind")))
    return cls(cls.params.model_validate({k: v for k, v in spec.items() if k != "kind"}))


class _NoParams(StrictModel):
    pass


def _last_boxed(text: str) -> tuple[int, str] | None:
    """(start, content) of the last `\\boxed{...}`, braces balanced."""
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    depth, i = 0, start + len("\\boxed")
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return start, text[i + 1 : j]
    return None


@EXTRACTORS.decorator()
class Boxed(Extractor):
    """m1 / MedVLThinker style: the answer is the last `\\boxed{...}`; the reasoning is what comes before it."""

    name = "boxed"
    params = _NoParams

    def fields(self) -> list[str]:
        return ["reasoning", "answer"]

    def extract(self, text: str) -> dict[str, str] | None:
        found = _last_boxed(text)
        if found is None or not found[1].strip():
            return None
        reasoning = re.sub(r"(?i)(the\s+)?(final\s+)?answer\s*(is)?\s*:?\s*\$*$", "", text[: found[0]].rstrip())
        return {"reasoning": reasoning.strip(), "answer": found[1].strip()}


_THINK = re.compile(r"(?:<think>)?(?P<reasoning>.*?)</think>\s*<answer>(?P<answer>.*?)(?:</answer>|$)", re.DOTALL)


@EXTRACTORS.decorator()
class ThinkAnswer(Extractor):
    """`<think>...</think><answer>...</answer>` (MedVLThinker's format); the opening think tag may be in the prompt."""

    name = "think_answer"
    params = _NoParams

    def fields(self) -> list[str]:
        return ["reasoning", "answer"]

    def extract(self, text: str) -> dict[str, str] | None:
        m = _THINK.search(text)
        if not m or not m.group("answer").strip():
            return None
        return {"reasoning": m.group("reasoning").strip(), "answer": m.group("answer").strip()}


class SectionsParams(StrictModel):
    sections: dict[str, str] = Field(description="field -> heading that starts it, in the order they appear")

    @field_validator("sections")
    @classmethod
    def _not_empty(cls, v: dict[str, str]) -> dict[str, str]:
        if not v:
            raise ValueError("name at least one section")
        return v


@EXTRACTORS.decorator()
class Sections(Extractor):
    """Headed sections such as `Reasoning Process:` ... `Conclusion:` (MedReason); every heading must be present."""

    name = "sections"
    params = SectionsParams

    def fields(self) -> list[str]:
        return list(self.p.sections)

    def extract(self, text: str) -> dict[str, str] | None:
        heads = [(f, re.search(rf"(?im)^\W*{re.escape(h)}", text)) for f, h in self.p.sections.items()]
        if any(m is None for _, m in heads):
            return None
        spans = sorted((m.start(), m.end(), f) for f, m in heads if m)
        out = {}
        for k, (_, end, f) in enumerate(spans):
            stop = spans[k + 1][0] if k + 1 < len(spans) else len(text)
            out[f] = text[end:stop].strip()
        return out if all(out.values()) else None


class RegexParams(StrictModel):
    pattern: str = Field(description="a regular expression with named groups: one field per group")
    last: bool = Field(True, description="use the last match (a model often restates its answer at the end)")

    @field_validator("pattern")
    @classmethod
    def _groups(cls, v: str) -> str:
        try:
            rx = re.compile(v)
        except re.error as e:
            raise ValueError(f"invalid regex: {e}") from None
        if not rx.groupindex:
            raise ValueError("the pattern needs at least one named group, e.g. (?P<answer>[A-E])")
        return v


@EXTRACTORS.decorator()
class Regex(Extractor):
    name = "regex"
    params = RegexParams

    def fields(self) -> list[str]:
        return list(re.compile(self.p.pattern).groupindex)

    def extract(self, text: str) -> dict[str, str] | None:
        matches = list(re.finditer(self.p.pattern, text, re.MULTILINE))
        if not matches:
            return None
        m = matches[-1] if self.p.last else matches[0]
        out = {k: (v or "").strip() for k, v in m.groupdict().items()}
        return out if all(out.values()) else None


class TextParams(StrictModel):
    field: str = Field("text", pattern=r"^[a-z][a-z0-9_]*$")


@EXTRACTORS.decorator()
class Text(Extractor):
    """The whole output as one field (notes, dialogues in prose, translations)."""

    name = "text"
    params = TextParams

    def fields(self) -> list[str]:
        return [self.p.field]

    def extract(self, text: str) -> dict[str, str] | None:
        return {self.p.field: text.strip()} if text.strip() else None
