"""Hetionet: `nodes.tsv` (id, name, kind), `edges*.sif[.gz]` (source, metaedge, target) and optionally
`metaedges.tsv` (metaedge name ↔ abbreviation, which gives the relation verb and its direction)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from curation.config_base import StrictModel
from curation.ingest.textio import open_text
from curation.kg.items import Bad, Edge, Item, Node
from curation.kg.licenses import hetionet_sources


class Options(StrictModel):
    """No options: the files say everything."""


@dataclass(frozen=True)
class Metaedge:
    rel: str
    directed: bool
    source_kind: str
    target_kind: str


def _malformed(cols: list[str], ref: str) -> Bad | None:
    """A Hetionet line is exactly three non-empty tab-separated fields."""
    if len(cols) == 3 and all(c.strip() for c in cols):
        return None
    return Bad("malformed_line", ref, "\t".join(cols), f"expected 3 non-empty tab-separated fields, got {len(cols)}")


def classify(paths: list[Path]) -> dict[str, list[Path]]:
    """Sort the inputs (files, or a directory holding them) into nodes, edges and metaedges; anything else is an
    error, so a wrong path never silently yields an empty graph."""
    files = [f for p in paths for f in (sorted(p.iterdir()) if p.is_dir() else [p])]
    roles: dict[str, list[Path]] = {"nodes": [], "edges": [], "metaedges": []}
    for f in files:
        name = f.name
        if name.startswith("metaedges") and name.endswith(".tsv"):
            roles["metaedges"].append(f)
        elif name.startswith("nodes") and name.endswith((".tsv", ".tsv.gz")):
            roles["nodes"].append(f)
        elif name.endswith((".sif", ".sif.gz")):
            roles["edges"].append(f)
        elif f.parent in paths and f not in paths:
            continue  # other files in a given directory (SOURCE.md, metanodes.tsv, ...)
        else:
            raise ValueError(
                f"hetionet: cannot tell what {f} is (expected nodes*.tsv, edges*.sif[.gz], metaedges*.tsv)"
            )
    if not roles["nodes"] or not roles["edges"]:
        raise ValueError(
            f"hetionet: need a nodes*.tsv and at least one edges*.sif[.gz] among {[str(p) for p in paths]}"
        )
    if len(roles["metaedges"]) > 1:
        raise ValueError(f"hetionet: more than one metaedges file: {roles['metaedges']}")
    return roles


def read_metaedges(path: Path) -> dict[str, Metaedge]:
    """`Compound - treats - Disease` → rel `treats`, undirected; `Gene > regulates > Gene` → directed."""
    out = {}
    with open_text(path) as f:
        for row in csv.DictReader(f, delimiter="\t"):
            name, abbr = row.get("metaedge"), row.get("abbreviation")
            if not name or not abbr:
                raise ValueError(f"{path}: expected columns metaedge and abbreviation, got {sorted(row)}")
            sep = " > " if " > " in name else " - "
            parts = name.split(sep)
            if len(parts) != 3:
                raise ValueError(f"{path}: cannot parse metaedge {name!r}")
            out[abbr] = Metaedge(parts[1], sep == " > ", parts[0], parts[2])
    return out


def _lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    with open_text(path) as f:
        for n, line in enumerate(f, 1):
            yield n, line.rstrip("\n").rstrip("\r").split("\t")


def read(paths: list[Path], options: Options) -> Iterator[Item]:
    roles = classify(paths)
    meta = read_metaedges(roles["metaedges"][0]) if roles["metaedges"] else {}
    sources = hetionet_sources()
    for path in roles["nodes"]:
        for n, cols in _lines(path):
            ref = f"{path}:{n}"
            if n == 1:
                if cols[:3] != ["id", "name", "kind"]:
                    raise ValueError(f"{ref}: expected header id, name, kind; got {cols}")
                continue
            if (bad := _malformed(cols, ref)) is not None:
                yield bad
                continue
            node_id, name, kind = cols
            licence = sources.metanodes.get(kind)
            if licence is None:
                yield Bad("unknown_kind", ref, "\t".join(cols), f"node kind {kind!r} is not a Hetionet v1.0 kind")
                continue
            yield Node(node_id, name, kind, licence, ref, path)
    for path in roles["edges"]:
        for n, cols in _lines(path):
            ref = f"{path}:{n}"
            if n == 1 and cols == ["source", "metaedge", "target"]:
                continue
            if (bad := _malformed(cols, ref)) is not None:
                yield bad
                continue
            src, abbr, dst = cols
            licence = sources.metaedges.get(abbr)
            if licence is None or (meta and abbr not in meta):
                yield Bad("unknown_metaedge", ref, "\t".join(cols), f"metaedge {abbr!r} is not in the metaedge table")
                continue
            m = meta.get(abbr)
            yield Edge(src, m.rel if m else abbr, dst, abbr, m.directed if m else True, licence, ref, path)
