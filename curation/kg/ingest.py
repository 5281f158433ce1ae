"""KG ingest: one call reads one KG source (its files together) into one unit of `kg_nodes` and `kg_edges`, with
lineage (file, sha256, file:line, run_id), per-edge licences, and bad input flagged or quarantined, never dropped:

- malformed lines, unknown kinds or metaedges → quarantine with file:line;
- a node id seen again with another name → quarantine `duplicate_node` (the first name wins), counted;
- the same (src, rel, dst) again → quarantine `duplicate_edge`, counted;
- an edge whose endpoint is no known node (this unit's nodes or any node already in the warehouse) → kept with
  `dangling = true`, counted; a self-loop → kept with `self_loop = true`, counted.

The unit is named `{source}--{hash of format, options and file contents}`: the same inputs are skipped, changed
inputs replace the older units of the same source (unless keep_old)."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
from pydantic import BaseModel

from curation.kg import hetionet, primekg, triples
from curation.kg.items import Bad, Edge, Item, Node
from curation.warehouse.quarantine import Quarantine
from curation.warehouse.runs import RunRecorder, sha256_file, start_run
from curation.warehouse.shards import ShardWriter
from curation.warehouse.store import Warehouse

STAGE = "kg_ingest"
TABLES = ("kg_nodes", "kg_edges")


@dataclass(frozen=True)
class KgFormat:
    options: type[BaseModel]
    files: Callable[[list[Path]], list[Path]]
    read: Callable[[list[Path], Any], Iterator[Item]]


def _plain_files(paths: list[Path]) -> list[Path]:
    return list(paths)


FORMATS: dict[str, KgFormat] = {
    "hetionet": KgFormat(
        hetionet.Options, lambda ps: [f for fs in hetionet.classify(ps).values() for f in fs], hetionet.read
    ),
    "primekg": KgFormat(primekg.Options, _plain_files, primekg.read),
    "triples": KgFormat(triples.Options, _plain_files, triples.read),
}


@dataclass
class KgIngestResult:
    run_id: str
    source: str
    unit: str
    status: str = "ingested"  # ingested | skipped
    nodes: int = 0
    edges: int = 0
    dangling_edges: int = 0
    self_loops: int = 0
    quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    nodes_by_kind: dict[str, int] = field(default_factory=dict)
    edges_by_metaedge: dict[str, int] = field(default_factory=dict)
    retired_units: list[str] = field(default_factory=list)
    seconds: float = 0.0
    message: str = ""


def kg_version(wh: Warehouse) -> str:
    """Names the KG content in the warehouse: units are content-addressed, so the version changes iff they do."""
    units = [f"{t}/{u}" for t in TABLES for u in wh.units(t)]
    return hashlib.sha256("\n".join(units).encode()).hexdigest()[:16]


def _check_source(source: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_.]+(-[A-Za-z0-9_.]+)*", source):
        raise ValueError(f"KG source name {source!r}: use letters, digits, _, . and single dashes")
    return source


class _Columnar:
    """Rows to a ShardWriter in Arrow batches (write_table), skipping its per-row JSON coercion: KG rows have no
    JSON columns, and this is most of the ingest time otherwise."""

    def __init__(self, writer: ShardWriter, batch: int = 20_000):
        self.writer, self.batch = writer, batch
        self.rows: list[dict[str, Any]] = []

    def write(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.batch:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.writer.write_table(pa.Table.from_pylist(self.rows, schema=self.writer.schema))
            self.rows = []


class _Known:
    """Node ids of this unit, then (looked up once, on the first miss) of every other unit in the warehouse."""

    def __init__(self, wh: Warehouse, unit: str, here: dict[str, Any]):
        self.wh, self.unit, self.here = wh, unit, here
        self._elsewhere: set[str] | None = None

    def __contains__(self, node_id: str) -> bool:
        if node_id in self.here:
            return True
        if self._elsewhere is None:
            d = self.wh.table_dir("kg_nodes")
            files = [
                str(f) for u in self.wh.units("kg_nodes") if u != self.unit for f in (d / u).glob("part-*.parquet")
            ]
            self._elsewhere = set()
            if files:
                self._elsewhere = set(ds.dataset(files, format="parquet").to_table(columns=["node_id"])[0].to_pylist())
        return node_id in self._elsewhere


def ingest_kg(
    wh: Warehouse,
    fmt: str,
    paths: Sequence[str | Path],
    *,
    source: str | None = None,
    options: dict[str, Any] | None = None,
    force: bool = False,
    keep_old: bool = False,
) -> KgIngestResult:
    """Ingest one KG source; see the module docstring. A whole-input problem (unknown format, bad options, missing
    file, unreadable header) raises ValueError/FileNotFoundError before anything is written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown KG format {fmt!r}; known: {', '.join(FORMATS)}")
    spec = FORMATS[fmt]
    opts = spec.options.model_validate(options or {})
    source = _check_source(source or fmt)
    resolved = [Path(p).resolve() for p in paths]
    for p in resolved:
        if not p.exists():
            raise FileNotFoundError(f"no such file: {p}")
    files = spec.files(resolved)
    shas = {f: sha256_file(f) for f in files}
    settings = json.dumps({"format": fmt, "options": opts.model_dump(mode="json"), "files": sorted(shas.values())})
    unit = f"{source}--{hashlib.sha256(settings.encode()).hexdigest()[:20]}"
    params = {"format": fmt, "source": source, "paths": [str(p) for p in resolved], "options": opts.model_dump()}
    t0 = time.perf_counter()
    with start_run(wh.ensure(), STAGE, params) as run:
        for f, sha in shas.items():
            run.add_input(f, sha, role=fmt)
        res = KgIngestResult(run.run_id, source, unit)
        if any(wh.has_unit(t, unit) for t in TABLES) and not force:
            res.status, res.message = "skipped", f"unit {unit} already ingested (same files and options)"
            return res
        _write_unit(wh, spec.read(resolved, opts), shas, unit, source, run, res)
        if not keep_old:
            for old in wh.units("kg_edges") + wh.units("kg_nodes"):
                if old != unit and old.split("--")[0] == source and old not in res.retired_units:
                    for t in TABLES:
                        wh.remove_unit(t, old)
                    wh.remove_unit("quarantine", f"{STAGE}-{old}")
                    res.retired_units.append(old)
        res.seconds = round(time.perf_counter() - t0, 3)
        run.set("extra", "kg", {k: v for k, v in res.__dict__.items() if k not in ("run_id",)})
        return res


def _node_row(n: Node, source: str, sha: str, run_id: str) -> dict[str, Any]:
    return {
        "node_id": n.node_id,
        "name": n.name,
        "kind": n.kind,
        "synonyms": n.synonyms,
        "source": source,
        "license": n.licence.license,
        "commercial_use": n.licence.commercial_use,
        "source_file": str(n.path),
        "source_file_sha256": sha,
        "source_ref": n.source_ref,
        "run_id": run_id,
    }


def _edge_row(e: Edge, source: str, sha: str, run_id: str, dangling: bool) -> dict[str, Any]:
    return {
        "src": e.src,
        "rel": e.rel,
        "dst": e.dst,
        "metaedge": e.metaedge,
        "directed": e.directed,
        "source": source,
        "evidence": e.evidence,
        "confidence": e.confidence,
        "first_seen": e.first_seen,
        "last_seen": e.last_seen,
        **e.licence.row(),
        "dangling": dangling,
        "self_loop": e.src == e.dst,
        "source_file": str(e.path),
        "source_file_sha256": sha,
        "source_ref": e.source_ref,
        "run_id": run_id,
    }


def _write_unit(
    wh: Warehouse, items: Iterator[Item], shas: dict[Path, str], unit: str, source: str, run: RunRecorder, res
) -> None:
    """Stream the reader's items into the unit's writers."""
    nodes: dict[str, dict[str, Any]] = {}  # node_id → row, written at the end (synonyms merge)
    known = _Known(wh, unit, nodes)
    seen_edges: set[int] = set()
    by_kind: Counter[str] = Counter()
    by_meta: Counter[str] = Counter()
    quarantine = Quarantine(wh, STAGE, run.run_id, unit=f"{STAGE}-{unit}")
    edges = ShardWriter(wh, "kg_edges", unit)
    node_writer = ShardWriter(wh, "kg_nodes", unit)
    edge_rows = _Columnar(edges)
    try:
        for item in items:
            if isinstance(item, Node):
                first = nodes.get(item.node_id)
                if first is None:
                    nodes[item.node_id] = _node_row(item, source, shas[item.path], run.run_id)
                    by_kind[item.kind] += 1
                elif first["name"] != item.name or first["kind"] != item.kind:
                    quarantine.add(
                        "duplicate_node",
                        item.source_ref,
                        f"{item.node_id}\t{item.name}\t{item.kind}",
                        f"node {item.node_id} is already {first['name']!r} ({first['kind']}) from {first['source_ref']}",
                    )
                else:
                    first["synonyms"] = list(dict.fromkeys(first["synonyms"] + item.synonyms))
            elif isinstance(item, Edge):
                key = hash((item.src, item.rel, item.dst))
                if key in seen_edges:
                    quarantine.add(
                        "duplicate_edge",
                        item.source_ref,
                        json.dumps({"src": item.src, "rel": item.rel, "dst": item.dst, "evidence": item.evidence}),
                        "the same (src, rel, dst) was read earlier in this input",
                    )
                    continue
                seen_edges.add(key)
                dangling = item.src not in known or item.dst not in known
                res.dangling_edges += dangling
                res.self_loops += item.src == item.dst
                by_meta[item.metaedge] += 1
                edge_rows.write(_edge_row(item, source, shas[item.path], run.run_id, dangling))
            elif isinstance(item, Bad):
                quarantine.add(item.reason, item.source_ref, item.payload, item.detail)
        edge_rows.flush()
        node_writer.write_table(pa.Table.from_pylist(list(nodes.values()), schema=node_writer.schema))
        quarantine.commit()
        node_stats = node_writer.commit()
        edge_stats = edges.commit()
    except BaseException:
        for w in (edges, node_writer, quarantine):
            w.abort()
        raise
    res.nodes, res.edges = node_stats.rows, edge_stats.rows
    res.quarantined, res.reasons = quarantine.n, dict(quarantine.reasons)
    res.nodes_by_kind, res.edges_by_metaedge = dict(sorted(by_kind.items())), dict(sorted(by_meta.items()))
    for t, s in (("kg_nodes", node_stats), ("kg_edges", edge_stats)):
        run.add_output(t, unit, s.rows)
    run.count("kg.nodes", res.nodes)
    run.count("kg.edges", res.edges)
    run.count("kg.dangling_edges", res.dangling_edges)
    run.count("kg.self_loops", res.self_loops)
    run.quarantined(quarantine.reasons)
