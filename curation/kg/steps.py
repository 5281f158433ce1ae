"""Knowledge-graph steps for recipe chains (curation/synth/recipe/steps.py): ingest a KG, link entity strings to
it, find paths between an item's linked entities, sample chains around rare nodes, and merge extracted triples
into kg_edges day by day (MedKGent). docs/kg.md describes each; docs/recipes/med*.md use them."""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow.dataset as ds
from pydantic import Field, field_validator, model_validator

from curation.config_base import StrictModel
from curation.kg.graph import KGraph, Path
from curation.kg.ingest import FORMATS, TABLES, ingest_kg
from curation.kg.linking import Candidate, Linker
from curation.kg.records import link_row, path_row
from curation.synth.recipe.steps import STEPS, Step, StepRun, digest
from curation.warehouse.schemas import Column, TableSchema
from curation.warehouse.shards import ShardWriter


def kg_state(wh: Any, sources: list[str] | None) -> str:
    """The version of the KG sources a step reads (all by default): units are content-addressed and named
    `<source>--...`, so it changes iff their content does, and not when another source (a merge) grows."""
    return digest([f"{t}/{u}" for t in TABLES for u in wh.units(t) if not sources or u.split("--")[0] in sources])


SOURCES = Field(None, description="KG sources to use (kg_nodes/kg_edges `source`); default all")


# --- kg_ingest -----------------------------------------------------------------------------------------------------


class IngestOptions(StrictModel):
    format: str
    paths: list[str] = Field(min_length=1, description="files or directories, relative to the manifest")
    source: str | None = Field(None, description="KG source name; default the format")
    options: dict[str, Any] = Field(default_factory=dict, description="the format's options (docs/kg.md)")

    @field_validator("format")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in FORMATS:
            raise ValueError(f"unknown KG format {v!r}; known: {', '.join(FORMATS)}")
        return v


@STEPS.decorator()
class KgIngest(Step):
    """`medcurate kg ingest` as a step, so a recipe's KG comes with it; an unchanged input is skipped by the
    ingest's own content-addressed unit."""

    name = "kg_ingest"
    options = IngestOptions
    needs_input = False
    default_table = "kg_edges"

    def execute(self, sr: StepRun) -> dict[str, Any]:
        paths = [self.task.base_dir / p for p in self.o.paths]
        res = ingest_kg(sr.wh, self.o.format, paths, source=self.o.source, options=self.o.options)
        sr.counts.update(nodes=res.nodes, edges=res.edges, units_skipped=int(res.status == "skipped"))
        return {"inputs": 0, "units": 1, "units_fresh": int(res.status != "skipped"), "units_stale": 0}


# --- kg_link ---------------------------------------------------------------------------------------------------------

CHOOSER_SYSTEM = (
    "You match a medical term to the knowledge-graph entity that means the same thing. Reply with the number of "
    "that entity, or 0 when none of them means the term."
)


class LinkOptions(StrictModel):
    """`columns` hold extracted entity strings (linked by name, synonym, embedding or the model); `mentions` hold
    free text, scanned for node names (MedReason extracts with an LLM; the scan backs up a weak one)."""

    columns: list[str] = Field(default_factory=list, description="input columns holding an entity string or a list")
    mentions: list[str] = Field(
        default_factory=list, description="free-text input columns scanned for node names (exact, whole words)"
    )
    kinds: list[str] | None = Field(None, description="link only to nodes of these kinds (and embed only those)")
    sources: list[str] | None = SOURCES

    @model_validator(mode="after")
    def _some(self) -> LinkOptions:
        if not self.columns and not self.mentions:
            raise ValueError("name input columns to link: columns (entity strings) and/or mentions (free text)")
        return self


def model_chooser(engine: Any) -> Any:
    """MedReason's step for a span whose best candidates are all between 0.7 and 0.85: the model picks one of the
    top-10 or none (constrained to a number)."""
    from curation.synth.engine import Sampling

    def choose(span: str, cands: list[Candidate]) -> str | None:
        listing = "\n".join(f"{i}. {c.name}" for i, c in enumerate(cands, 1))
        msgs = [
            {"role": "system", "content": CHOOSER_SYSTEM},
            {"role": "user", "content": f"Term: {span}\nEntities:\n{listing}\nNumber:"},
        ]
        schema = {
            "type": "object",
            "properties": {"choice": {"type": "integer", "enum": list(range(len(cands) + 1))}},
            "required": ["choice"],
            "additionalProperties": False,
        }
        res = engine.generate([msgs], Sampling(0.0, 1.0, 16, 0), schema)[0]
        k = res.parsed.get("choice") if isinstance(res.parsed, dict) else None
        return cands[k - 1].node_id if isinstance(k, int) and 1 <= k <= len(cands) else None

    return choose


def _spans(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [str(v).strip() for v in values if v is not None and str(v).strip()]


@STEPS.decorator()
class KgLink(Step):
    """Entity strings of each input row → kg_links (role = the column), by exact name, synonym, embedding, or the
    step's model choosing among candidates. Rows with no entity (`no_entities`) or none linked (`no_kg_link`) are
    quarantined; their unlinked spans stay in kg_links with method none / candidates."""

    name = "kg_link"
    options = LinkOptions
    default_table = "kg_links"

    def needs(self) -> set[str]:
        return set(self.o.columns) | set(self.o.mentions)

    def state(self, wh: Any) -> str:
        return kg_state(wh, self.o.sources)

    def process(self, sr: StepRun, part: str, rows: list[dict]) -> Iterable[dict]:
        chooser = model_chooser(sr.pool.get(self.task.spec.model)) if sr.pool and self.task.spec.model else None
        linker = Linker(sr.wh, kinds=self.o.kinds, sources=self.o.sources, chooser=chooser)
        unique = {(r["input_id"], c, s): (r, c, s) for r in rows for c in self.o.columns for s in _spans(r.get(c))}
        for r in rows:
            for c in self.o.mentions:
                unique.update({(r["input_id"], c, s): (r, c, s) for s in linker.mentions(str(r.get(c) or ""))})
        spans = list(unique.values())  # a span once per (item, role)
        links = linker.link_many([s for _, _, s in spans])
        linked: defaultdict[str, int] = defaultdict(int)
        for (r, col, _), link in zip(spans, links, strict=True):
            linked[r["input_id"]] += link.node_id is not None
            sr.counts[f"method.{link.method}"] += 1
            yield link_row(
                r["input_id"], link, run_id=sr.run_id, kg_version=linker.kg_version, encoder=linker.encoder, role=col
            )
        for r in rows:
            where = [*self.o.columns, *self.o.mentions]
            payload = json.dumps({c: r.get(c) for c in where}, default=str)
            if r["input_id"] not in linked:
                sr.reject("no_entities", r["input_id"], payload, f"no entity strings or node names in {where}")
            elif not linked[r["input_id"]]:
                sr.reject("no_kg_link", r["input_id"], payload, "no entity linked to a KG node")


# --- kg_paths --------------------------------------------------------------------------------------------------------


class PathOptions(StrictModel):
    starts: str = Field(description="input column: the item's start node ids (list), e.g. question entities")
    ends: str = Field(description="input column: the item's end node ids (list), e.g. answer entities")
    max_hops: int = Field(3, ge=1, le=6)
    k: int = Field(3, ge=1, description="paths kept per (start, end) pair (MedReason: 3)")
    sample: int = Field(50, ge=1, description="shortest paths drawn per pair before keeping k (MedReason: 50)")
    max_pairs: int = Field(25, ge=1, description="pairs searched per item (a bound)")
    max_scan: int = Field(20_000_000, ge=1, description="adjacency entries one search may scan (a bound)")
    sources: list[str] | None = SOURCES
    seed: int = 0


@STEPS.decorator()
class KgPaths(Step):
    """All shortest paths (≤ max_hops) between each (start, end) node pair of an item → kg_paths keyed by the
    item. Per pair up to `sample` paths are drawn, then the k whose middle nodes have the lowest degree are kept
    (specific links over hubs; a declared LLM task can re-rank what is kept). Items without any path are
    quarantined `no_kg_path`; a search cut by a bound is counted and its message kept in the quarantine detail of
    the item when nothing was found."""

    name = "kg_paths"
    options = PathOptions
    default_table = "kg_paths"

    def needs(self) -> set[str]:
        return {self.o.starts, self.o.ends}

    def state(self, wh: Any) -> str:
        return kg_state(wh, self.o.sources)

    def _keep(self, g: KGraph, paths: list[Path], rng: random.Random) -> list[Path]:
        drawn = rng.sample(paths, self.o.sample) if len(paths) > self.o.sample else paths

        def hubness(p: Path) -> float:
            return sum(math.log1p(float(g.degree[g.index[n]])) for n in p.nodes[1:-1])

        return sorted(drawn, key=lambda p: (hubness(p), p.text))[: self.o.k]

    def process(self, sr: StepRun, part: str, rows: list[dict]) -> Iterable[dict]:
        g = KGraph.from_warehouse(sr.wh, self.o.sources)
        version = kg_state(sr.wh, self.o.sources)
        for r in rows:
            item = r["input_id"]
            starts, ends = sorted(set(r.get(self.o.starts) or [])), sorted(set(r.get(self.o.ends) or []))
            pairs = [(a, b) for a in starts for b in ends if a != b]
            notes = []
            if len(pairs) > self.o.max_pairs:
                sr.counts["items_pairs_capped"] += 1
                pairs = pairs[: self.o.max_pairs]
            rng = random.Random(f"{self.o.seed}:{item}")
            found = 0
            for a, b in pairs:
                res = g.shortest_paths(a, b, max_hops=self.o.max_hops, max_scan=self.o.max_scan)
                sr.counts[f"pairs.{res.status}"] += 1
                if res.message:
                    notes.append(f"{a} -> {b}: {res.message}")
                for rank, p in enumerate(self._keep(g, res.paths, rng)):
                    found += 1
                    yield path_row(item, p, rank, run_id=sr.run_id, kg_version=version)
            if not found:
                payload = json.dumps({"starts": r.get(self.o.starts), "ends": r.get(self.o.ends)})
                detail = "; ".join(notes[:5]) or "no (start, end) pair of distinct linked nodes"
                sr.reject("no_kg_path", item, payload, detail)


# --- kg_chains -------------------------------------------------------------------------------------------------------


class ChainOptions(StrictModel):
    n: int = Field(10, ge=1)
    min_hops: int = Field(2, ge=1)
    max_hops: int = Field(4, ge=1, le=8)
    max_start_degree: int = Field(5, ge=1, description="rare start nodes: degree at most this")
    kinds: list[str] | None = Field(None, description="kinds a chain may start at")
    sources: list[str] | None = SOURCES
    seed: int = 0

    @model_validator(mode="after")
    def _hops(self) -> ChainOptions:
        if self.min_hops > self.max_hops:
            raise ValueError(f"min_hops {self.min_hops} > max_hops {self.max_hops}")
        return self


@STEPS.decorator()
class KgChains(Step):
    """MedResearcher-R1's chains: simple 2-4-hop walks from low-degree nodes, one row per chain with its node names
    and the text a question writer reads; the answer of a question is the chain's end."""

    name = "kg_chains"
    options = ChainOptions
    needs_input = False
    default_table = "kg_chains"

    def schemas(self, table: str, columns: dict[str, str]) -> list[TableSchema]:
        return [
            TableSchema(
                name=table,
                key=("chain_id",),
                columns=(
                    Column("chain_id", "string", False, "hash of the node and relation sequence"),
                    Column("start", "string", False, "node_id of the rare start node"),
                    Column("end", "string", False, "node_id of the chain's end: the answer"),
                    Column("start_name", "string", False),
                    Column("end_name", "string", False),
                    Column("end_kind", "string", False),
                    Column("hops", "int32", False),
                    Column("nodes", "list<string>", False),
                    Column("names", "list<string>", False),
                    Column("rels", "list<string>", False, "per hop; a leading < marks an edge walked backwards"),
                    Column("text", "string", False, "the chain with node names"),
                    Column("kg_version", "string", False),
                    Column("run_id", "string", False),
                ),
                description=f"multi-hop chains around low-degree KG nodes (step {self.task.name})",
                path=table,
            )
        ]

    def state(self, wh: Any) -> str:
        return kg_state(wh, self.o.sources)

    def process(self, sr: StepRun, part: str, rows: list[dict]) -> Iterable[dict]:
        g = KGraph.from_warehouse(sr.wh, self.o.sources)
        version = kg_state(sr.wh, self.o.sources)
        o = self.o
        chains = g.sample_chains(
            o.n,
            min_hops=o.min_hops,
            max_hops=o.max_hops,
            max_start_degree=o.max_start_degree,
            kinds=o.kinds,
            seed=o.seed,
        )
        seen = set()
        for p in chains:
            cid = digest(p.nodes, p.rels)
            if cid in seen:  # the same walk drawn twice
                sr.counts["duplicate_chains"] += 1
                continue
            seen.add(cid)
            idx = [g.index[n] for n in p.nodes]
            yield {
                "chain_id": cid,
                "start": p.nodes[0],
                "end": p.nodes[-1],
                "start_name": g.names[idx[0]],
                "end_name": g.names[idx[-1]],
                "end_kind": g.kinds[idx[-1]],
                "hops": p.hops,
                "nodes": p.nodes,
                "names": [g.names[i] for i in idx],
                "rels": p.rels,
                "text": p.text,
                "kg_version": version,
                "run_id": sr.run_id,
            }
        if len(chains) < o.n:
            sr.counts["chains_short"] += o.n - len(chains)


def unit_rows(wh: Any, table: str, units: list[str]) -> list[dict]:
    files = [str(f) for u in units for f in sorted((wh.table_dir(table) / u).glob("part-*.parquet"))]
    return ds.dataset(files, format="parquet").to_table().to_pylist() if files else []


# --- kg_merge --------------------------------------------------------------------------------------------------------

MERGE_COLUMNS = ("src", "rel", "dst", "src_name", "dst_name", "pmid", "published", "agreement")


class MergeOptions(StrictModel):
    source: str = Field(pattern=r"^[A-Za-z0-9_.]+$", description="the KG source the merged edges and new nodes get")
    license: str = Field("unknown", description="licence of the merged edges (that of the abstracts)")
    commercial_use: bool | None = None
    node_kind: str = Field("entity", description="kind of nodes the merge adds (endpoints not yet in the KG)")


@STEPS.decorator()
class KgMerge(Step):
    """MedKGent's constructor: triples with their PMID, publication date and extraction agreement (share of samples
    that found the triple) are kept per publication day in an evidence table (one unit per day), then folded into
    one kg_edges unit of `source`: new edges are added; evidence from another PMID raises confidence
    (1 - Π(1 - agreement)); `evidence` lists the PMIDs; first_seen / last_seen are the earliest / latest
    publication dates. A later run folds only the new days into the merged edges; when an old day changed (its
    unit was replaced) the edges are rebuilt from all days. Endpoints not yet in the KG become nodes of `source`.

    Input columns: src, rel, dst (node ids, linked or new), src_name, dst_name, pmid, published (date),
    agreement (0..1)."""

    name = "kg_merge"
    options = MergeOptions
    default_table = "kg_evidence"

    def needs(self) -> set[str]:
        return set(MERGE_COLUMNS)

    def schemas(self, table: str, columns: dict[str, str]) -> list[TableSchema]:
        cols = [Column(c, "string", c in ("src_name", "dst_name")) for c in MERGE_COLUMNS[:6]]
        return [
            TableSchema(
                name=table,
                key=("src", "rel", "dst", "pmid"),
                columns=(
                    *cols,
                    Column("published", "date", False),
                    Column("day", "string", False, "the publication day: one unit per day"),
                    Column("agreement", "float64", False, "share of extraction samples that found the triple"),
                    Column("run_id", "string", False),
                ),
                description=f"triple evidence per publication day, merged into kg_edges (step {self.task.name})",
                path=table,
            )
        ]

    def parts(self, rows: list[dict]) -> list[tuple[str, list[dict]]]:
        by_day: defaultdict[str, list[dict]] = defaultdict(list)
        for r in rows:
            pub = r.get("published")
            by_day[pub.isoformat() if isinstance(pub, dt.date) else "undated"].append(r)
        return sorted(by_day.items())

    def process(self, sr: StepRun, part: str, rows: list[dict]) -> Iterable[dict]:
        best: dict[tuple, dict] = {}
        for r in rows:
            ref = f"{r.get('pmid')}:{r['input_id']}"
            payload = json.dumps({c: r.get(c) for c in MERGE_COLUMNS}, default=str)
            if part == "undated":
                sr.reject("no_date", ref, payload, "the triple's abstract has no publication date")
            elif not all(str(r.get(c) or "").strip() for c in ("src", "rel", "dst", "pmid")):
                sr.reject("malformed_triple", ref, payload, "src, rel, dst and pmid are required")
            elif r["src"] == r["dst"]:
                sr.reject("self_loop", ref, payload, "subject and object link to the same node")
            elif r.get("agreement") is None or not 0 < float(r["agreement"]) <= 1:
                sr.reject("bad_agreement", ref, payload, "agreement must be in (0, 1]")
            else:
                key = (r["src"], r["rel"], r["dst"], str(r["pmid"]))
                if key not in best or r["agreement"] > best[key]["agreement"]:
                    best[key] = r
        for (src, rel, dst, pmid), r in sorted(best.items()):
            yield {
                "src": src,
                "rel": rel,
                "dst": dst,
                "src_name": r.get("src_name"),
                "dst_name": r.get("dst_name"),
                "pmid": pmid,
                "published": r["published"],
                "day": part,
                "agreement": float(r["agreement"]),
                "run_id": sr.run_id,
            }

    @property
    def merged_unit(self) -> str:
        return f"{self.o.source}--merge-{self.task.name}"

    def _evidence(self, sr: StepRun, units: list[str]) -> Iterator[dict]:
        rows = unit_rows(sr.wh, self.task.table, units)
        yield from sorted(rows, key=lambda r: (r["day"], r["pmid"], r["src"], r["rel"], r["dst"]))

    def _current(self, sr: StepRun) -> dict[tuple, dict]:
        return {(r["src"], r["rel"], r["dst"]): r for r in unit_rows(sr.wh, "kg_edges", [self.merged_unit])}

    def finish(self, sr: StepRun, fresh: list[str], stale: list[str]) -> None:
        units = [u for u in sr.wh.units(self.task.table) if u.startswith(f"{self.task.name}-")]
        incremental = not stale and sr.wh.has_unit("kg_edges", self.merged_unit)
        if incremental and not fresh:
            sr.counts["merge.unchanged"] += 1
            return
        state = self._current(sr) if incremental else {}
        sr.counts["merge.incremental" if incremental else "merge.rebuilt"] += 1
        names: dict[str, str] = {}
        for e in self._evidence(sr, fresh if incremental else units):
            names.setdefault(e["src"], e["src_name"] or e["src"])
            names.setdefault(e["dst"], e["dst_name"] or e["dst"])
            key = (e["src"], e["rel"], e["dst"])
            edge = state.get(key)
            if edge is None:
                state[key] = edge = self._edge(e, sr.run_id)
                sr.counts["merge.edges_new"] += 1
            elif e["pmid"] in edge["evidence"]:
                continue
            else:
                sr.counts["merge.edges_reinforced"] += 1
            edge["evidence"] = sorted({*edge["evidence"], e["pmid"]})
            edge["confidence"] = 1 - (1 - (edge["confidence"] or 0.0)) * (1 - e["agreement"])
            edge["first_seen"] = min(edge["first_seen"] or e["published"], e["published"])
            edge["last_seen"] = max(edge["last_seen"] or e["published"], e["published"])
            edge["run_id"] = sr.run_id
        with ShardWriter(sr.wh, "kg_edges", self.merged_unit) as w:
            for key in sorted(state):
                w.write(state[key])
        sr.counts["merge.edges"] = len(state)
        self._write_nodes(sr, state, names)

    def _edge(self, e: dict, run_id: str) -> dict:
        return {
            "src": e["src"],
            "rel": e["rel"],
            "dst": e["dst"],
            "metaedge": e["rel"],
            "directed": True,
            "source": self.o.source,
            "evidence": [],
            "confidence": None,
            "first_seen": None,
            "last_seen": None,
            "license": self.o.license,
            "license_sources": [self.o.source],
            "commercial_use": self.o.commercial_use,
            "dangling": False,
            "self_loop": False,
            "source_file": f"step:{self.task.name}",
            "source_file_sha256": digest(self.task.spec.options),
            "source_ref": f"pmid:{e['pmid']}",
            "run_id": run_id,
        }

    def _write_nodes(self, sr: StepRun, state: dict[tuple, dict], names: dict[str, str]) -> None:
        """Endpoints that no other source has as a node become nodes of this source (kept from earlier runs)."""
        files = [str(f) for f in sr.wh.files("kg_nodes")]
        nodes = ds.dataset(files, format="parquet").to_table().to_pylist() if files else []
        others = {n["node_id"] for n in nodes if n["source"] != self.o.source}
        mine = {n["node_id"]: n for n in nodes if n["source"] == self.o.source}
        for (src, _, dst), edge in state.items():
            for node in (src, dst):
                if node not in others and node not in mine:
                    mine[node] = {
                        "node_id": node,
                        "name": names.get(node, node),
                        "kind": self.o.node_kind,
                        "synonyms": [],
                        "source": self.o.source,
                        "license": self.o.license,
                        "commercial_use": self.o.commercial_use,
                        "source_file": f"step:{self.task.name}",
                        "source_file_sha256": digest(self.task.spec.options),
                        "source_ref": edge["source_ref"],
                        "run_id": sr.run_id,
                    }
        with ShardWriter(sr.wh, "kg_nodes", self.merged_unit) as w:
            for node_id in sorted(mine):
                w.write(mine[node_id])
        sr.counts["merge.nodes"] = len(mine)
