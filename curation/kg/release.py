"""A standalone KG release: nodes.parquet and edges.parquet with a card (README.md), a per-source licence table
(LICENSES.md) and manifest.json with sha256 per file. Because Hetionet mixes CC0 with non-commercial resources,
every edge keeps its licence and resources, and `commercial_only` keeps only rows whose resources all allow
commercial use (nodes and edges, judged separately; an edge may then point at a node left out)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from curation.kg.ingest import kg_version
from curation.kg.views import install_kg_views
from curation.warehouse.catalog import connect
from curation.warehouse.runs import sha256_file
from curation.warehouse.store import Warehouse

CITATIONS = {
    "hetionet": "Himmelstein DS, Lizee A, Hessler C, et al. Systematic integration of biomedical knowledge prioritizes "
    "drugs for repurposing. eLife 2017;6:e26726. doi:10.7554/eLife.26726",
    "primekg": "Chandak P, Huang K, Zitnik M. Building a knowledge graph to enable precision medicine. "
    "Sci Data 2023;10:67. doi:10.1038/s41597-023-01960-3",
}


def _table(header: list[str], rows: list[tuple]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def export_kg(
    wh: Warehouse,
    out: str | Path,
    *,
    name: str = "kg",
    version: str = "0.1.0",
    sources: list[str] | None = None,
    commercial_only: bool = False,
) -> dict[str, Any]:
    """Write <out>/<name>/<version>/ and return its manifest; an existing release directory is an error."""
    final = Path(out) / name / version
    if final.exists():
        raise ValueError(f"release {final} already exists; choose another version")
    con = connect(wh)
    con.execute("SET enable_progress_bar = false")
    install_kg_views(con)
    where = ["true"]
    if sources:
        where.append("source IN (" + ", ".join("'" + s.replace("'", "''") + "'" for s in sources) + ")")
    if commercial_only:
        where.append("commercial_use IS TRUE")
    cond = " AND ".join(where)
    n_edges = con.execute(f"SELECT count(*) FROM kg_edges WHERE {cond}").fetchall()[0][0]
    if n_edges == 0:
        raise ValueError(f"no KG edges to release in {wh.root} (sources={sources}, commercial_only={commercial_only})")
    tmp = final.with_name(f".tmp-{version}-{uuid.uuid4().hex[:8]}")
    tmp.mkdir(parents=True)
    try:
        for table in ("nodes", "edges"):
            con.execute(
                f"COPY (SELECT * FROM kg_{table} WHERE {cond} ORDER BY ALL) TO '{tmp / f'{table}.parquet'}' "
                "(FORMAT parquet, COMPRESSION zstd)"
            )
        licences = con.execute(
            f"SELECT source, metaedge, rel, license, commercial_use, array_to_string(any_value(license_sources), '; '), "
            f"count(*) FROM kg_edges WHERE {cond} GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        kinds = con.execute(
            f"SELECT source, kind, license, commercial_use, count(*) FROM kg_nodes WHERE {cond} GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        runs = [r[0] for r in con.execute(f"SELECT DISTINCT run_id FROM kg_edges WHERE {cond} ORDER BY 1").fetchall()]
        inputs = con.execute(
            f"SELECT DISTINCT source_file, source_file_sha256 FROM kg_edges WHERE {cond} UNION "
            f"SELECT DISTINCT source_file, source_file_sha256 FROM kg_nodes WHERE {cond} ORDER BY 1"
        ).fetchall()
        (tmp / "LICENSES.md").write_text(
            "# Licences per source and edge type\n\nEach edge carries the strictest licence of the resources behind "
            "its type (`license_sources`); `commercial_use` is false when one forbids it, empty when unknown.\n\n"
            + _table(["source", "metaedge", "rel", "license", "commercial_use", "resources", "edges"], licences)
            + "\n\n## Nodes\n\n"
            + _table(["source", "kind", "license", "commercial_use", "nodes"], kinds)
            + "\n"
        )
        files = [
            {"path": p.name, "sha256": sha256_file(p), "bytes": p.stat().st_size}
            for p in sorted(tmp.iterdir())
            if p.suffix in (".parquet", ".md")
        ]
        manifest = {
            "name": name,
            "version": version,
            "kind": "knowledge_graph",
            "created_at": dt.datetime.now(dt.UTC).isoformat(),
            "kg_version": kg_version(wh),
            "filters": {"sources": sources, "commercial_only": commercial_only},
            "nodes": sum(k[-1] for k in kinds),
            "edges": n_edges,
            "licenses": sorted({r[3] for r in licences} | {k[2] for k in kinds}),
            "non_commercial_edges": sum(r[-1] for r in licences if r[4] is False),
            "runs": runs,
            "inputs": [{"path": p, "sha256": s} for p, s in inputs],
            "files": files,
        }
        (tmp / "README.md").write_text(_card(manifest, licences, kinds))
        manifest["files"].append({"path": "README.md", "sha256": sha256_file(tmp / "README.md")})
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _card(m: dict[str, Any], licences: list[tuple], kinds: list[tuple]) -> str:
    sources = sorted({r[0] for r in licences})
    cite = [f"- {CITATIONS[s]}" for s in sources if s in CITATIONS]
    nc = m["non_commercial_edges"]
    return "\n".join(
        [
            f"# {m['name']} {m['version']}: knowledge graph",
            "",
            f"{m['nodes']:,} nodes and {m['edges']:,} edges from {', '.join(sources)} (KG version {m['kg_version']}), "
            f"exported by medcurate. Filters: {json.dumps(m['filters'])}.",
            "",
            "Files: `nodes.parquet` (node_id, name, kind, synonyms, licence, lineage) and `edges.parquet` (src, rel, "
            "dst, metaedge, evidence, confidence, first/last seen, licence, dangling/self-loop flags, lineage).",
            "",
            "## Licences",
            "",
            f"Licences in this release: {', '.join(m['licenses'])}. {nc:,} edges come from resources that forbid "
            "commercial use; see LICENSES.md for the licence of every source and edge type before redistributing.",
            "",
            "## Counts",
            "",
            _table(["source", "metaedge", "rel", "license", "commercial_use", "resources", "edges"], licences),
            "",
            _table(["source", "kind", "license", "commercial_use", "nodes"], kinds),
            "",
            "## Lineage",
            "",
            f"Runs: {', '.join(m['runs'])}. Inputs:",
            "",
            *[f"- `{i['path']}` sha256 {i['sha256']}" for i in m["inputs"]],
            "",
            *(["## Citation", "", *cite, ""] if cite else []),
        ]
    )


def verify_kg_release(release_dir: str | Path) -> list[str]:
    """Problems found (empty when every file listed in manifest.json is present with its sha256)."""
    d = Path(release_dir)
    m = json.loads((d / "manifest.json").read_text())
    problems = []
    for f in m["files"]:
        p = d / f["path"]
        if not p.is_file():
            problems.append(f"missing {f['path']}")
        elif sha256_file(p) != f["sha256"]:
            problems.append(f"sha256 mismatch: {f['path']}")
    return problems
