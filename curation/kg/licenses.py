"""Licences of KG resources: an edge or node derived from several resources carries the most restrictive one, so a
release can keep or drop non-commercial edges per source (Hetionet mixes CC0 with CC BY-NC-SA resources)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

UNKNOWN = "unknown"


@dataclass(frozen=True)
class Licence:
    license: str
    sources: tuple[str, ...]
    commercial_use: bool | None

    def row(self) -> dict:
        return {"license": self.license, "license_sources": list(self.sources), "commercial_use": self.commercial_use}


def _strictness(license: str, commercial_use: bool | None) -> int:
    """Non-commercial > unknown commercial status > share-alike > attribution > public domain."""
    if commercial_use is False:
        return 4
    if commercial_use is None:
        return 3
    if "-SA" in license or license.startswith("ODbL"):
        return 2
    return 1 if license.startswith("CC-BY") else 0


def combine(resources: dict[str, tuple[str, bool | None]], names: list[str]) -> Licence:
    """The licence of something derived from `names`: the strictest licence, and commercial use only when all
    resources allow it (false if any forbids it, null if any is unknown)."""
    if not names:
        return Licence(UNKNOWN, (), None)
    terms = [resources[n] for n in names]
    strictest = max(terms, key=lambda t: _strictness(*t))
    flags = [t[1] for t in terms]
    commercial = False if False in flags else (None if None in flags else True)
    return Licence(strictest[0], tuple(names), commercial)


@dataclass(frozen=True)
class HetionetSources:
    metaedges: dict[str, Licence]
    metanodes: dict[str, Licence]


@functools.cache
def hetionet_sources() -> HetionetSources:
    """The resource → licence map of Hetionet v1.0 (hetionet_sources.yaml, with its provenance)."""
    spec = yaml.safe_load((Path(__file__).with_name("hetionet_sources.yaml")).read_text())
    res = {name: (r["license"], r["commercial_use"]) for name, r in spec["resources"].items()}
    return HetionetSources(
        metaedges={k: combine(res, v) for k, v in spec["metaedges"].items()},
        metanodes={k: combine(res, v) for k, v in spec["metanodes"].items()},
    )


def fixed(license: str = UNKNOWN, commercial_use: bool | None = None, source: str = "") -> Licence:
    """One licence for a whole input (PrimeKG, generic triples), as declared by the user."""
    return Licence(license, (source,) if source else (), commercial_use)
