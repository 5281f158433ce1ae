"""Writing what KG operations produce: `kg_paths` (paths keyed by the item they serve) and `kg_links` (entity
links with method and score). Each call writes one unit, so a redone unit replaces its rows, never duplicates."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable

from curation.kg.graph import Path
from curation.kg.linking import Link
from curation.warehouse.shards import ShardWriter, UnitStats
from curation.warehouse.store import Warehouse


def path_id(path: Path) -> str:
    return hashlib.sha256("\x1f".join(path.nodes + path.rels).encode()).hexdigest()[:20]


def path_row(item_id: str, p: Path, rank: int, *, run_id: str, kg_version: str) -> dict:
    return {
        "item_id": item_id,
        "path_id": path_id(p),
        "start": p.nodes[0],
        "end": p.nodes[-1],
        "hops": p.hops,
        "nodes": p.nodes,
        "rels": p.rels,
        "text": p.text,
        "rank": rank,
        "kg_version": kg_version,
        "run_id": run_id,
    }


def write_paths(
    wh: Warehouse, paths: Iterable[tuple[str, Path]], *, unit: str, run_id: str, kg_version: str
) -> UnitStats:
    """(item_id, path) pairs → kg_paths; rank is the order of each path within (item_id, start, end)."""
    ranks: defaultdict[tuple[str, str, str], int] = defaultdict(int)
    with ShardWriter(wh, "kg_paths", unit) as w:
        for item_id, p in paths:
            group = (item_id, p.nodes[0], p.nodes[-1])
            w.write(path_row(item_id, p, ranks[group], run_id=run_id, kg_version=kg_version))
            ranks[group] += 1
    return w.stats


def link_row(item_id: str, link: Link, *, run_id: str, kg_version: str, encoder: str, role: str | None = None) -> dict:
    """One kg_links row; the encoder is named only for links the embedding search made or tried."""
    return {
        "item_id": item_id,
        "span": link.span,
        "role": role,
        "node_id": link.node_id,
        "node_name": link.node_name,
        "method": link.method,
        "score": link.score,
        "candidates": [c.__dict__ for c in link.candidates],
        "kg_version": kg_version,
        "encoder": encoder if link.method in ("embedding", "model", "candidates", "none") else None,
        "run_id": run_id,
    }


def write_links(
    wh: Warehouse, links: Iterable[tuple[str, Link]], *, unit: str, run_id: str, kg_version: str, encoder: str
) -> UnitStats:
    """(item_id, link) pairs → kg_links, unlinked spans included (method none or candidates)."""
    with ShardWriter(wh, "kg_links", unit) as w:
        for item_id, link in links:
            w.write(link_row(item_id, link, run_id=run_id, kg_version=kg_version, encoder=encoder))
    return w.stats
