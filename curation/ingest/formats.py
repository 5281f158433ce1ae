"""The registry of source formats. A format module defines its options model and
`parse(path, options, split) -> Iterator[Item]` and registers them; plugins add formats through the entry-point
group `medcurate.formats`."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from curation.config_base import StrictModel
from curation.ingest.items import Item
from curation.registry import Registry


@dataclass(frozen=True)
class FormatSpec:
    """A source format: its parser, its options model and the table it fills (tabular formats may choose with
    options.table). A format module registers one with `FORMATS.register(FormatSpec(...))`."""

    name: str
    parse: Callable[[Path, Any, str | None], Iterator[Item]]
    options_model: type[StrictModel]
    table: str
    check: Callable[[Path, Any, str | None], Any] | None = None  # whole-file errors before any row is read
    reads_directories: bool = False  # a path may be a directory (a saved HF dataset, a folder of notes)
    reasons: Mapping[str, str] = field(default_factory=dict)  # quarantine reasons only this format has
    citation: str = ""  # BibTeX of the source or benchmark, for release cards
    also_writes: tuple[str, ...] = ()  # tables of its records' children (Record.children), written in the same unit

    def options(self, raw: dict[str, Any]) -> StrictModel:
        return self.options_model.model_validate(raw)

    def table_for(self, options: StrictModel) -> str:
        return getattr(options, "table", None) or self.table

    def parser(self) -> Callable[[Path, Any, str | None], Iterator[Item]]:
        return self.parse


FORMATS: Registry[FormatSpec] = Registry("formats", scan=("curation.ingest.*", "curation.ingest.benchmarks.*"))


def get_format(name: str) -> FormatSpec:
    return FORMATS.get(name)


def check_options(fmt: str, raw: dict[str, Any]) -> StrictModel:
    """Validate a source's options against its format; raises ValueError with the offending keys."""
    try:
        return get_format(fmt).options(raw)
    except ValidationError as e:
        msgs = []
        for err in e.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "(options)"
            msgs.append(f"{loc}: {'unknown key' if err['type'] == 'extra_forbidden' else err['msg']}")
        raise ValueError("; ".join(msgs)) from None
