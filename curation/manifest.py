"""Build manifests (manifests/*.yaml): a strict pydantic model. Unknown keys are errors that name their path."""

from __future__ import annotations

import glob
import hashlib
from pathlib import Path
from typing import Annotated, ClassVar

import yaml
from pydantic import AfterValidator, BaseModel, Field, ValidationError, model_validator

from curation.config_base import SectionsModel
from curation.errors import UserError
from curation.ingest.config import SourceConfig
from curation.synth.config import ModelSpec
from curation.yaml_guard import YAMLBoundExceeded, load_yaml_bounded


class ManifestError(UserError, ValueError):
    """A manifest that cannot be used; the message lists every problem with its key path."""


def _registered_stage(name: str) -> str:
    from curation.stages import STAGES

    STAGES.get(name)  # raises with the registered names
    return name


class Manifest(SectionsModel):
    """name, description, stages and sources; then one section per registered stage (`dedup:`, `synth:`, ...),
    validated by that stage's config model. Read a section with `manifest.section("dedup")`."""

    component_kind: ClassVar[str] = "stage"

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    description: str = ""
    stages: list[Annotated[str, AfterValidator(_registered_stage)]] = Field(default_factory=lambda: ["ingest"])
    sources: list[SourceConfig] = Field(default_factory=list)
    models: dict[str, ModelSpec] = Field(
        default_factory=dict, description="named models that recipe steps use (docs/recipes.md)"
    )

    # Set by load_manifest: where relative paths resolve, and the hash recorded in run records.
    base_dir: Path = Field(default=Path("."), exclude=True)
    sha256: str = Field(default="", exclude=True)
    path: Path | None = Field(default=None, exclude=True)

    @classmethod
    def section_models(cls) -> dict[str, type[BaseModel]]:
        from curation.stages import pipeline

        return {s.section: s.config for s in pipeline()}

    @model_validator(mode="after")
    def _check(self) -> Manifest:
        from curation.ingest.formats import check_options
        from curation.stages import stage_names

        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate source names: {dupes}")
        order = stage_names()
        if len(set(self.stages)) != len(self.stages):
            raise ValueError("stages: a stage is listed twice")
        if [order.index(s) for s in self.stages] != sorted(order.index(s) for s in self.stages):
            raise ValueError(f"stages must follow the pipeline order {order}")
        for i, src in enumerate(self.sources):
            try:
                check_options(src.format, src.options)
            except ValueError as e:
                raise ValueError(f"sources.{i}.options: {e}") from None
        self._check_model_names()
        return self

    def _check_model_names(self) -> None:
        """Every model a declared task or check names is in `models:`."""
        synth = (self.__pydantic_extra__ or {}).get("synth")
        for name, spec in (synth.define if synth is not None else {}).items():
            refs = [(f"synth.define.{name}.model", spec.model)]
            checks = getattr(spec, "checks", [])  # a step (step: <kind>) has none
            refs += [(f"synth.define.{name}.checks.{i}.model", c.get("model")) for i, c in enumerate(checks)]
            for where, ref in refs:
                if ref is not None and ref not in self.models:
                    raise ValueError(f"{where}: {ref!r} is not in models: {sorted(self.models) or '(none declared)'}")

    def resolve(self, path: str) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)

    def source_files(self, source: SourceConfig) -> list[Path]:
        """Expand a source's paths and globs, in a stable order; a path that matches nothing is an error."""
        files: list[Path] = []
        for i, pattern in enumerate(source.paths):
            full = self.resolve(pattern)
            if source.format == "hf" and full.is_dir():
                files.append(full)
                continue
            matches = sorted(Path(m) for m in glob.glob(str(full), recursive=True) if Path(m).is_file())
            if not matches:
                raise ManifestError(f"sources.{source.name}.paths.{i}: no file matches {str(full)!r}")
            files.extend(matches)
        return files

    def stage_enabled(self, stage: str) -> bool:
        return stage in self.stages


def _format_errors(err: ValidationError, where: str) -> str:
    lines = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
        lines.append(f"  {loc}: {msg}")
    return f"{where}: invalid manifest\n" + "\n".join(lines)


def load_manifest(path: str | Path, *, check_paths: bool = True) -> Manifest:
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"manifest not found: {path}")
    raw = path.read_bytes()
    try:
        data = load_yaml_bounded(raw) or {}
    except YAMLBoundExceeded as e:
        raise ManifestError(f"{path}: {e}") from None
    except yaml.YAMLError as e:
        raise ManifestError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise ManifestError(f"{path}: a manifest is a mapping at the top level")
    try:
        m = Manifest.model_validate(data)
    except ValidationError as e:
        raise ManifestError(_format_errors(e, str(path))) from None
    m.path = path.resolve()
    m.base_dir = m.path.parent
    m.sha256 = hashlib.sha256(raw).hexdigest()
    if check_paths:
        for src in m.sources:
            m.source_files(src)
        from curation.stages import pipeline

        for stage in pipeline():
            if stage.check_manifest is not None and stage.name in m.stages:
                stage.check_manifest(m)
    return m
