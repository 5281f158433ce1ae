"""Bounded graph operations over the KG held as compressed sparse rows (CSR) in numpy arrays: all shortest paths
between two nodes, k-hop neighbourhoods, and simple chains (random walks without revisits) around low-degree nodes.

Why CSR and not networkx: the full Hetionet (47 k nodes, 2.25 M edges) is 61 MB as CSR (int32 neighbour and
edge ids, both directions; measured on a synthetic graph of that size) against ~0.6-0.8 GB as a networkx Graph
(270-360 bytes per edge measured); frontier expansion is one vectorised gather per BFS layer. The graph is undirected for search (MedReason searches an undirected graph);
each hop reports its relations and marks with a leading `<` the ones walked against the stored direction.

Every search is bounded: by hops, by the number of adjacency entries it may scan (`max_scan`), and by the
number of paths or nodes it returns; hitting a bound returns what was found with `truncated` and a message.
An unknown node gives an empty result with status `unknown_node`, never an exception.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from curation.warehouse.store import Warehouse

DEFAULT_MAX_SCAN = 20_000_000  # adjacency entries per search: ~10 full sweeps of the full Hetionet


@dataclass
class Path:
    nodes: list[str]
    rels: list[str]
    text: str

    @property
    def hops(self) -> int:
        return len(self.nodes) - 1


@dataclass
class PathResult:
    start: str
    end: str
    status: str  # found | no_path | unknown_node | truncated
    paths: list[Path] = field(default_factory=list)
    distance: int | None = None
    truncated: bool = False
    message: str = ""


@dataclass
class Neighbourhood:
    node: str
    status: str  # found | unknown_node | truncated
    nodes: list[tuple[str, int]] = field(default_factory=list)  # (node_id, hops), hops ascending
    truncated: bool = False
    message: str = ""


class KGraph:
    """An undirected multigraph in CSR form; node i's neighbours are indices[indptr[i]:indptr[i+1]], and edge_of
    holds the id of the stored edge behind each entry (its src, dst and relation)."""

    def __init__(self, node_ids: list[str], names: list[str], kinds: list[str], src, dst, rel, rel_names):
        self.node_ids, self.names, self.kinds = node_ids, names, kinds
        self.index = {n: i for i, n in enumerate(node_ids)}
        self.edge_src = np.asarray(src, dtype=np.int32)
        self.edge_dst = np.asarray(dst, dtype=np.int32)
        self.edge_rel = np.asarray(rel, dtype=np.int32)
        self.rel_names = list(rel_names)
        n = len(node_ids)
        rows = np.concatenate([self.edge_src, self.edge_dst])
        order = np.argsort(rows, kind="stable")
        self.indices = np.concatenate([self.edge_dst, self.edge_src])[order]
        self.edge_of = np.concatenate([np.arange(len(src), dtype=np.int32)] * 2)[order]
        self.degree = np.bincount(rows, minlength=n).astype(np.int64)
        self.indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(self.degree, out=self.indptr[1:])

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def n_edges(self) -> int:
        return len(self.edge_src)

    def nbytes(self) -> int:
        """Bytes held by the numpy arrays (the node id/name lists come on top)."""
        arrays = (self.edge_src, self.edge_dst, self.edge_rel, self.indices, self.edge_of, self.degree, self.indptr)
        return sum(a.nbytes for a in arrays)

    # ---- construction ----
    @classmethod
    def from_tables(cls, nodes: pa.Table, edges: pa.Table) -> KGraph:
        """From Arrow tables with node_id, name, kind and src, rel, dst; dangling endpoints become nodes of kind
        `unknown` named by their id, so every edge is searchable."""
        node_ids = pc.unique(nodes["node_id"]) if nodes.num_rows else pa.array([], pa.string())
        first = pc.index_in(node_ids, nodes["node_id"])
        names = pc.take(nodes["name"], first).to_pylist()
        kinds = pc.take(nodes["kind"], first).to_pylist()
        ends = pc.unique(pa.concat_arrays([edges["src"].combine_chunks(), edges["dst"].combine_chunks()]))
        extra = pc.filter(ends, pc.invert(pc.is_in(ends, node_ids)))
        ids = node_ids.to_pylist() + extra.to_pylist()
        names += extra.to_pylist()
        kinds += ["unknown"] * len(extra)
        all_ids = pa.array(ids, pa.string())
        rel_names = pc.unique(edges["rel"]) if edges.num_rows else pa.array([], pa.string())
        return cls(
            ids,
            names,
            kinds,
            pc.index_in(edges["src"], all_ids).to_numpy(zero_copy_only=False),
            pc.index_in(edges["dst"], all_ids).to_numpy(zero_copy_only=False),
            pc.index_in(edges["rel"], rel_names).to_numpy(zero_copy_only=False),
            rel_names.to_pylist(),
        )

    @classmethod
    def from_warehouse(cls, wh: Warehouse, sources: list[str] | None = None) -> KGraph:
        """The whole KG of the warehouse (or of the named sources)."""
        flt = pc.field("source").isin(sources) if sources else None

        def read(table: str, cols: list[str]) -> pa.Table:
            files = [str(f) for f in wh.files(table)]
            if not files:
                return pa.table({c: pa.array([], pa.string()) for c in cols})
            return ds.dataset(files, format="parquet").to_table(columns=cols, filter=flt)

        return cls.from_tables(read("kg_nodes", ["node_id", "name", "kind"]), read("kg_edges", ["src", "rel", "dst"]))

    # ---- helpers ----
    def _neighbours(self, frontier: np.ndarray) -> np.ndarray:
        """All adjacency entries of the frontier nodes, as positions into indices/edge_of."""
        starts, lengths = self.indptr[frontier], self.degree[frontier]
        total = int(lengths.sum())
        if total == 0:
            return np.empty(0, dtype=np.int64)
        offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        return offsets + np.arange(total)

    def hop_rels(self, u: int, v: int) -> str:
        """The relations between u and v ('|'-joined), with `<` for those stored as v → u."""
        lo, hi = self.indptr[u], self.indptr[u + 1]
        edges = self.edge_of[lo:hi][self.indices[lo:hi] == v]
        rels = sorted(
            {("" if self.edge_src[e] == u else "<") + self.rel_names[self.edge_rel[e]] for e in edges.tolist()}
        )
        return "|".join(rels)

    def make_path(self, idx: list[int]) -> Path:
        rels = [self.hop_rels(u, v) for u, v in itertools.pairwise(idx)]
        text = self.names[idx[0]]
        for r, v in zip(rels, idx[1:], strict=True):
            text += f" <-{r.replace('<', '')}- " if r.startswith("<") else f" -{r}-> "
            text += self.names[v]
        return Path([self.node_ids[i] for i in idx], rels, text)

    def _unknown(self, *nodes: str) -> str:
        missing = [n for n in nodes if n not in self.index]
        return f"unknown node(s): {', '.join(missing)}" if missing else ""

    # ---- operations ----
    def shortest_paths(
        self, start: str, end: str, *, max_hops: int = 3, max_paths: int = 100, max_scan: int = DEFAULT_MAX_SCAN
    ) -> PathResult:
        """All shortest paths of at most max_hops hops (bidirectional BFS, expanding the cheaper side first)."""
        res = PathResult(start, end, "no_path")
        if msg := self._unknown(start, end):
            res.status, res.message = "unknown_node", msg
            return res
        a, b = self.index[start], self.index[end]
        if a == b:
            res.status, res.distance, res.paths = "found", 0, [self.make_path([a])]
            return res
        dist = [np.full(self.n_nodes, -1, dtype=np.int16) for _ in range(2)]
        dist[0][a], dist[1][b] = 0, 0
        front = [np.array([a]), np.array([b])]
        depth, scanned = [0, 0], 0
        while depth[0] + depth[1] < max_hops:
            cost = [int(self.degree[f].sum()) for f in front]
            side = 0 if cost[0] <= cost[1] else 1
            if scanned + cost[side] > max_scan:
                res.status, res.truncated = "truncated", True
                res.message = (
                    f"search stopped at {depth[0] + depth[1]} hops: the next layer would scan {cost[side]:,} "
                    f"adjacency entries (limit {max_scan:,} per search); no path of ≤ {depth[0] + depth[1]} hops"
                )
                return res
            scanned += cost[side]
            nb = np.unique(self.indices[self._neighbours(front[side])])
            new = nb[dist[side][nb] < 0]
            depth[side] += 1
            dist[side][new] = depth[side]
            front[side] = new
            meet = new[dist[1 - side][new] >= 0]
            if meet.size:
                res.distance = depth[side] + int(dist[1 - side][meet].min())
                break
            if new.size == 0:
                res.message = "the two nodes are not connected"
                return res
        if res.distance is None:
            res.message = f"no path of ≤ {max_hops} hops"
            return res
        res.status = "found"
        d = res.distance
        i = min(depth[0], d)
        middle = np.flatnonzero((dist[0] == i) & (dist[1] == d - i))
        for idx in self._enumerate(middle, dist, a, b):
            if len(res.paths) == max_paths:
                res.status, res.truncated = "truncated", True
                res.message = f"more than {max_paths} shortest paths of {d} hops; returned the first {max_paths}"
                break
            res.paths.append(self.make_path(idx))
        return res

    def _back(self, v: int, dist: np.ndarray, goal: int) -> Iterator[list[int]]:
        """Shortest paths from v back to goal, stepping to neighbours one BFS layer closer."""
        if v == goal:
            yield [v]
            return
        lo, hi = self.indptr[v], self.indptr[v + 1]
        nb = np.unique(self.indices[lo:hi])
        for u in nb[dist[nb] == dist[v] - 1].tolist():
            for rest in self._back(u, dist, goal):
                yield [v, *rest]

    def _enumerate(self, middle: np.ndarray, dist: list[np.ndarray], a: int, b: int) -> Iterator[list[int]]:
        for m in middle.tolist():
            suffixes = list(self._back(m, dist[1], b))
            for prefix in self._back(m, dist[0], a):
                for suffix in suffixes:
                    yield prefix[::-1] + suffix[1:]

    def neighbourhood(
        self, node: str, hops: int = 2, *, max_nodes: int = 10_000, max_scan: int = DEFAULT_MAX_SCAN
    ) -> Neighbourhood:
        """Nodes within `hops` hops of node (excluding it), nearest first, at most max_nodes."""
        res = Neighbourhood(node, "found")
        if msg := self._unknown(node):
            res.status, res.message = "unknown_node", msg
            return res
        seen = np.zeros(self.n_nodes, dtype=bool)
        front = np.array([self.index[node]])
        seen[front] = True
        scanned = 0
        for h in range(1, hops + 1):
            scanned += int(self.degree[front].sum())
            if scanned > max_scan:
                res.status, res.truncated = "truncated", True
                res.message = f"stopped before hop {h}: more than {max_scan:,} adjacency entries to scan"
                return res
            nb = np.unique(self.indices[self._neighbours(front)])
            front = nb[~seen[nb]]
            seen[front] = True
            room = max_nodes - len(res.nodes)
            res.nodes += [(self.node_ids[i], h) for i in front[:room].tolist()]
            if front.size > room:
                res.status, res.truncated = "truncated", True
                res.message = f"more than {max_nodes} nodes within {h} hops; returned the first {max_nodes}"
                return res
            if front.size == 0:
                break
        return res

    def low_degree_nodes(self, max_degree: int = 5, kinds: list[str] | None = None) -> list[int]:
        idx = np.flatnonzero((self.degree >= 1) & (self.degree <= max_degree)).tolist()
        return [i for i in idx if self.kinds[i] in kinds] if kinds else idx

    def chain(self, start: int, hops: int, rng: random.Random) -> Path | None:
        """A random simple chain (no repeated node) of exactly `hops` hops from start, or None after a few tries."""
        for _ in range(8):
            idx = [start]
            while len(idx) <= hops:
                lo, hi = self.indptr[idx[-1]], self.indptr[idx[-1] + 1]
                options = sorted(set(self.indices[lo:hi].tolist()) - set(idx))
                if not options:
                    break
                idx.append(rng.choice(options))
            if len(idx) == hops + 1:
                return self.make_path(idx)
        return None

    def sample_chains(
        self,
        n: int,
        *,
        min_hops: int = 2,
        max_hops: int = 4,
        max_start_degree: int = 5,
        kinds: list[str] | None = None,
        seed: int = 0,
    ) -> list[Path]:
        """n chains of min_hops..max_hops hops starting at rare (low-degree) nodes (MedResearcher-R1 sampling);
        fewer when the graph has too few such chains (at most 20 n attempts)."""
        rng = random.Random(seed)
        starts = self.low_degree_nodes(max_start_degree, kinds)
        out: list[Path] = []
        for _ in range(20 * n):
            if len(out) == n or not starts:
                break
            p = self.chain(rng.choice(starts), rng.randint(min_hops, max_hops), rng)
            if p is not None:
                out.append(p)
        return out
