"""Prompt templates of declared tasks: a file beside the manifest with `=== system` / `=== user` / `=== assistant`
sections (as medcurate's own prompts), each a Jinja2 template rendered with strict undefined. Input text is passed
through `delimit()`, so a source cannot close its own data block. The template's content hash is its version."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta
from jinja2.sandbox import SandboxedEnvironment

from curation.errors import UserError
from curation.synth.prompts import delimit

_SECTION = re.compile(r"^=== (system|user|assistant)\s*$", re.MULTILINE)


class TemplateError(UserError, ValueError):
    """A template that cannot be read, parsed or filled: names the file and line."""


def format_options(options: Any) -> str:
    """`{{ options | options }}`: multiple-choice options as `A. text` lines."""
    return "\n".join(f"{o['label']}. {o['text']}" for o in options or [])


def _env() -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False, autoescape=False)
    env.filters["options"] = format_options
    env.filters["tojson"] = lambda v: json.dumps(v, ensure_ascii=False)
    return env


ENV = _env()


def _delimited(value: Any) -> Any:
    if isinstance(value, str):
        return delimit(value)
    if isinstance(value, list):
        return [_delimited(v) for v in value]
    if isinstance(value, dict):
        return {k: _delimited(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class PromptTemplate:
    path: Path
    text: str
    sections: tuple[tuple[str, str, jinja2.Template], ...]  # role, source, compiled

    @property
    def version(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()[:12]

    def variables(self) -> dict[str, int]:
        """Every variable the template reads, with the 1-based file line where it first appears."""
        found: dict[str, int] = {}
        for name in sorted(meta.find_undeclared_variables(ENV.parse(self.text))):
            line = next(
                (i for i, t in enumerate(self.text.splitlines(), 1) if re.search(rf"[{{%][^}}]*\b{name}\b", t)), 0
            )
            found[name] = line
        return found

    def check_columns(self, columns: list[str], extra: set[str]) -> None:
        """Every variable is an input column or a task variable; else an error naming the line and the columns."""
        for name, line in self.variables().items():
            if name not in columns and name not in extra:
                raise TemplateError(
                    f"{self.path}:{line}: the template uses {name!r}, which is not an input column; "
                    f"available: {sorted(columns)}{f' and vars {sorted(extra)}' if extra else ''}"
                )

    def render(self, row: dict[str, Any], extra: dict[str, Any]) -> list[dict[str, str]]:
        values = {**{k: _delimited(v) for k, v in row.items()}, **extra}
        try:
            return [{"role": role, "content": t.render(values).strip()} for role, _, t in self.sections]
        except jinja2.UndefinedError as e:
            raise TemplateError(f"{self.path}: {e.message}; available: {sorted(values)}") from None

    def example(self, extra: dict[str, Any] | None = None) -> str:
        """The worked example (assistant sections) of a few-shot template, filled with the task's `vars`: the
        content gate rejects copies of it."""
        extra = extra or {}
        return "\n".join(
            t.render(extra)
            for role, src, t in self.sections
            if role == "assistant" and meta.find_undeclared_variables(ENV.parse(src)) <= set(extra)
        )


def load_template(path: Path) -> PromptTemplate:
    if not path.is_file():
        raise TemplateError(f"prompt template not found: {path}")
    text = path.read_text()
    parts = _SECTION.split(text)
    if len(parts) < 3 or parts[0].strip():
        raise TemplateError(f"{path}: a template is `=== system` / `=== user` sections (text before the first one)")
    sections = []
    for role, body in zip(parts[1::2], parts[2::2], strict=True):
        try:
            sections.append((role, body.strip(), ENV.from_string(body.strip())))
        except jinja2.TemplateSyntaxError as e:
            line = text[: text.find(body)].count("\n") + (e.lineno or 1)
            raise TemplateError(f"{path}:{line}: template syntax error: {e.message}") from None
    if not any(role == "user" for role, _, _ in sections):
        raise TemplateError(f"{path}: a template needs a `=== user` section")
    return PromptTemplate(path, text, tuple(sections))
