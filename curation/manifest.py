"""Build manifests (manifests/*.yaml): a strict pydantic model. Unknown keys are errors that name their path."""

from __future__ import annotations

import glob
import hashlib
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from curation.config_base import StrictModel
from curation.decontam.config import DecontamConfig
from curation.dedup.config import DedupConfig
from curation.ingest.config import IngestConfig, SourceConfig
from curation.quality.config import QualityConfig
from curation.release.config import ReleaseConfig
from curation.synth.config import SynthConfig
from curation.validate.config import ValidateConfig

STAGE_ORDER = ("ingest", "dedup", "score", "decontam", "synth", "validate", "release")
Stage = Literal["ingest", "dedup", "score", "decontam", "synth", "validate", "release"]


class ManifestError(ValueError):
    """A manifest that cannot be used; the message lists every problem with its key path."""


class Manifest(StrictModel):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    description: str = ""
    stages: list[Stage] = Field(default_factory=lambda: ["ingest"])
    sources: list[SourceConfig] = Field(default_factory=list)
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    dedup: DedupConfig = Field(default_factory=DedupConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)
    decontam: DecontamConfig = Field(default_factory=DecontamConfig)
    synth: SynthConfig = Field(default_factory=SynthConfig)
    validate_: ValidateConfig = Field(default_factory=ValidateConfig, alias="validate")
    release: ReleaseConfig = Field(default_factory=ReleaseConfig)

    # Set by load_manifest: where relative paths resolve, and the hash recorded in run records.
    base_dir: Path = Field(default=Path("."), exclude=True)
    sha256: str = Field(default="", exclude=True)

    model_config = StrictModel.model_config | {"populate_by_name": True}

    @model_validator(mode="after")
    def _check(self) -> Manifest:
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate source names: {dupes}")
        if len(set(self.stages)) != len(self.stages):
            raise ValueError("stages: a stage is listed twice")
        order = [STAGE_ORDER.index(s) for s in self.stages]
        if order != sorted(order):
            raise ValueError(f"stages must follow the pipeline order {list(STAGE_ORDER)}")
        from curation.ingest.formats import check_options

        for i, src in enumerate(self.sources):
            try:
                check_options(src.format, src.options)
            except ValueError as e:
                raise ValueError(f"sources.{i}.options: {e}") from None
        return self

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
        data = yaml.safe_load(raw) or {}
    except yaml.YAMLError as e:
        raise ManifestError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise ManifestError(f"{path}: a manifest is a mapping at the top level")
    try:
        m = Manifest.model_validate(data)
    except ValidationError as e:
        raise ManifestError(_format_errors(e, str(path))) from None
    m.base_dir = path.resolve().parent
    m.sha256 = hashlib.sha256(raw).hexdigest()
    if check_paths:
        for src in m.sources:
            m.source_files(src)
    return m
