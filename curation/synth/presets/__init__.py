"""The built-in tasks are presets of the declared-task mechanism: each folder here holds a `preset.yaml` (the
options of its manifest section `synth.<name>`, and a `task:` that is a `synth.define` entry whose `{{ option }}`
placeholders the section fills), its prompt templates and its JSON schema. A preset expands into the same
`DeclaredTaskConfig` a manifest declares and runs through the same code (curation/synth/recipe/). Adding a built-in
task is adding a folder; copying one into a manifest is copying its files and its `task:` with the values filled
in (`medcurate synth preset NAME` prints it).

    options:                      # the section's options: type, default, bounds, description
      limit: {type: int, nullable: true, ge: 1, description: at most this many passages}
    task:                         # a synth.define entry
      input: {passages: true, limit: "{{ limit }}"}   # a whole-string placeholder keeps the option's type
      prompt: "prompt.{{ prompt_version }}.txt"       # inside a string it is text
    row_rules: [non_empty_question]                   # the validate stage's row rules for the task's table
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import jinja2
import yaml
from jinja2.nativetypes import NativeEnvironment
from pydantic import BaseModel, Field, create_model, model_validator

from curation.synth.config import DeclaredTaskConfig, GateConfig, TaskSettings

DIR = Path(__file__).resolve().parent
_WHOLE = re.compile(r"\{\{[^{}]*\}\}")
_NATIVE = NativeEnvironment(undefined=jinja2.StrictUndefined)
_TEXT = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
_TYPES: dict[str, Any] = {"int": int, "float": float, "bool": bool, "str": str, "list[str]": list[str]}


def fill(value: Any, options: dict[str, Any]) -> Any:
    """The spec with its placeholders rendered (Jinja2, strict): a string that is one `{{ expression }}` becomes its
    value with its type (a number, a list, null: `maxItems: "{{ max_turns + 4 }}"`), a placeholder inside a longer
    string becomes text."""
    if isinstance(value, dict):
        return {k: fill(v, options) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, options) for v in value]
    if not isinstance(value, str) or "{{" not in value:
        return value
    env = _NATIVE if _WHOLE.fullmatch(value.strip()) else _TEXT
    try:
        return env.from_string(value).render(options)
    except jinja2.UndefinedError as e:
        raise ValueError(f"preset placeholder {value!r}: {e.message}; options: {sorted(options)}") from None


class PresetSettings(TaskSettings):
    """What every preset's section sets besides its own options: sampling over synth.sampling (from TaskSettings)
    and the content gate. Validating a section expands the preset, so a bad value fails at manifest load."""

    preset: ClassVar[str] = ""
    gate: GateConfig = Field(default_factory=GateConfig)

    @model_validator(mode="after")
    def _expands(self) -> PresetSettings:
        presets()[self.preset].expand(self)
        return self


def _option_field(name: str, spec: dict[str, Any]) -> tuple[Any, Any]:
    kind = _TYPES[spec.get("type", "str")]
    if spec.get("nullable"):
        kind = kind | None
    bounds = {k: spec[k] for k in ("ge", "le") if k in spec}
    default = spec.get("default")
    if isinstance(default, list):
        return kind, Field(default_factory=lambda d=default: list(d), description=spec.get("description"), **bounds)
    return kind, Field(default, description=spec.get("description"), **bounds)


@dataclass(frozen=True)
class Preset:
    name: str
    dir: Path
    description: str
    config: type[PresetSettings]  # the manifest section `synth.<name>`
    task: dict[str, Any]  # a synth.define entry with placeholders
    row_rules: tuple[str, ...]

    @property
    def table(self) -> str:
        return str(self.task.get("table") or f"synthetic_{self.name}")

    def spec(self, section: BaseModel | None = None) -> dict[str, Any]:
        """The define entry for these settings (the defaults without a section), the schema file inlined."""
        values = (section or self.config()).model_dump(mode="python")
        task = fill(self.task, values)
        schema = task.get("output", {}).get("schema")
        if isinstance(schema, str):
            task["output"]["schema"] = fill(json.loads((self.dir / schema).read_text()), values)
        return task

    def expand(self, section: BaseModel | None = None) -> DeclaredTaskConfig:
        return DeclaredTaskConfig.model_validate(self.spec(section))


def _load(path: Path) -> Preset:
    raw = yaml.safe_load(path.read_text())
    name = path.parent.name
    fields = {k: _option_field(k, v or {}) for k, v in (raw.get("options") or {}).items()}
    config = create_model(f"{name.title().replace('_', '')}Settings", __base__=PresetSettings, **fields)  # type: ignore[call-overload]
    config.__doc__ = raw.get("description", "")
    config.preset = name
    return Preset(name, path.parent, raw.get("description", ""), config, raw["task"], tuple(raw.get("row_rules", ())))


@functools.cache
def presets() -> dict[str, Preset]:
    """The presets by name, read once from this folder."""
    return {p.parent.name: _load(p) for p in sorted(DIR.glob("*/preset.yaml"))}


def preset_schemas() -> dict[str, Any]:
    """The tables of the presets (and their `_items` tables), derived from the default settings as a declared
    task's are: their columns do not depend on option values. A schema directory without a preset's input table (a
    test's stand-in schemas) has no table for it."""
    from curation.synth.config import SynthConfig
    from curation.synth.recipe.plan import builtin_input_columns, table_schemas
    from curation.synth.recipe.task import DeclaredTask

    out = {}
    for p in presets().values():
        t = DeclaredTask(SynthConfig(), p.name, p.expand(), p.dir, f"synth.{p.name}")
        try:
            columns = builtin_input_columns(t)
        except KeyError:
            continue
        if columns is None:
            raise ValueError(f"preset {p.name}: a preset reads passages or benchmark items, not SQL")
        for schema in table_schemas(t, columns):
            out[schema.name] = schema
    return out


def as_define(name: str, section: BaseModel | None = None) -> dict[str, Any]:
    """The preset as a `synth.define` entry to paste into a manifest: values filled in, the schema inline, switched
    off checks left out, template paths under `<name>/` (copy the preset's templates there, beside the manifest)."""
    p = presets()[name]
    spec = p.spec(section)
    spec["prompt"] = f"{name}/{spec['prompt']}"
    checks = []
    for c in spec.get("checks", []):
        if c.pop("enabled", True):
            checks.append({**c, "prompt": f"{name}/{c['prompt']}"} if "prompt" in c else c)
    spec["checks"] = checks
    if spec.get("gate") == GateConfig().model_dump(mode="python"):
        del spec["gate"]
    if not spec.get("sampling"):
        spec.pop("sampling", None)
    return spec


def copy_templates(name: str, dest: Path) -> list[Path]:
    """Copy a preset's prompt templates into `dest/<name>/` (the paths `as_define` names)."""
    target = dest / name
    target.mkdir(parents=True, exist_ok=True)
    out = []
    for src in sorted(presets()[name].dir.glob("*.txt")):
        (target / src.name).write_text(src.read_text())
        out.append(target / src.name)
    return out
