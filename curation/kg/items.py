"""What a KG reader yields: nodes, edges, and lines it could not read (quarantined with a reason and location)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from curation.kg.licenses import Licence


@dataclass(slots=True)
class Node:
    node_id: str
    name: str
    kind: str
    licence: Licence
    source_ref: str
    path: Path
    synonyms: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Edge:
    src: str
    rel: str
    dst: str
    metaedge: str
    directed: bool
    licence: Licence
    source_ref: str
    path: Path
    evidence: list[str] | None = None
    confidence: float | None = None
    first_seen: dt.date | None = None
    last_seen: dt.date | None = None


@dataclass(slots=True)
class Bad:
    reason: str
    source_ref: str
    payload: str | None
    detail: str = ""


Item = Node | Edge | Bad
