"""`medcurate kg ...`: ingest a knowledge graph, link text to its nodes, find paths, neighbourhoods and chains,
and export it as a release. See docs/kg.md."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import typer
from rich.table import Table

from curation.commands.common import cli_errors, console, out, warehouse

app = typer.Typer(help="Knowledge graphs: ingest, link, paths, neighbors, chains, export.", no_args_is_help=True)


def _kv(pairs: list[str] | None, what: str) -> dict[str, object]:
    result: dict[str, object] = {}
    for kv in pairs or []:
        key, sep, value = kv.partition("=")
        if not sep or not key:
            raise ValueError(f"{what} expects KEY=VALUE, got {kv!r}")
        try:
            result[key] = json.loads(value)
        except json.JSONDecodeError:
            result[key] = value
    return result


@app.command("ingest")
def ingest(
    paths: list[Path] = typer.Argument(..., help="files (or, for hetionet, a directory holding them)"),
    format: str = typer.Option(..., "--format", "-f", help="hetionet | primekg | triples"),
    source: str = typer.Option(None, "--source", help="KG source name (default: the format)"),
    option: list[str] = typer.Option(None, "--option", "-o", help="format option KEY=VALUE (JSON values)"),
    field: list[str] = typer.Option(None, "--map", help="triples field mapping FIELD=COLUMN, e.g. src=subject"),
    force: bool = typer.Option(False, "--force", help="re-ingest inputs already ingested"),
    keep_old: bool = typer.Option(False, "--keep-old", help="keep earlier units of the same source"),
) -> None:
    """Ingest KG files into kg_nodes and kg_edges (bad lines quarantined, dangling edges and self-loops flagged)."""
    from curation.kg.ingest import ingest_kg
    from curation.warehouse.lock import warehouse_lock

    with cli_errors():
        options = _kv(option, "--option")
        if field:
            options["fields"] = {k: str(v) for k, v in _kv(field, "--map").items()}
        wh = warehouse()
        with warehouse_lock(wh, command="kg ingest"):
            r = ingest_kg(wh, format, paths, source=source, options=options, force=force, keep_old=keep_old)
    if r.status == "skipped":
        out.print(f"run {r.run_id}: skipped, {r.message}")
        return
    out.print(
        f"run {r.run_id}: {r.source} → unit {r.unit}: {r.nodes:,} nodes, {r.edges:,} edges "
        f"({r.dangling_edges} dangling, {r.self_loops} self-loops), {r.quarantined} quarantined in {r.seconds:.1f}s"
    )
    for reason, n in sorted(r.reasons.items()):
        console.print(f"  quarantined {n} × {reason}")
    for unit in r.retired_units:
        console.print(f"  retired older unit {unit}")


@app.command("link")
def link(
    texts: list[str] = typer.Argument(..., help="text spans to link"),
    kind: list[str] = typer.Option(None, "--kind", help="only nodes of these kinds"),
    item_id: str = typer.Option(None, "--item-id", help="store the links in kg_links under this item id"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Link spans to KG nodes: exact name, synonym, then MiniLM cosine (> 0.85 accepted, > 0.7 candidates)."""
    from curation.kg.linking import Linker

    with cli_errors():
        linker = Linker(warehouse(), kinds=kind or None)
        links = linker.link_many(texts)
        if item_id is not None:
            _save_links(linker, item_id, links)
    if as_json:
        out.print_json(json.dumps([asdict(x) for x in links]))
        return
    t = Table("span", "node_id", "name", "method", "score", "candidates")
    for x in links:
        cands = "; ".join(f"{c.name} ({c.score:.2f})" for c in x.candidates[:3])
        t.add_row(x.span, x.node_id or "", x.node_name or "", x.method, f"{x.score:.3f}" if x.score else "", cands)
    out.print(t)


def _save_links(linker, item_id: str, links) -> None:
    from curation.kg.records import write_links
    from curation.warehouse.lock import warehouse_lock
    from curation.warehouse.runs import start_run

    wh = warehouse()
    with warehouse_lock(wh, command="kg link"), start_run(wh, "kg_link", {"item_id": item_id}) as run:
        stats = write_links(
            wh,
            [(item_id, x) for x in links],
            unit=f"link-{run.run_id}",
            run_id=run.run_id,
            kg_version=linker.kg_version,
            encoder=linker.encoder,
        )
        run.add_output("kg_links", stats.unit, stats.rows)
        for x in links:
            run.count(f"kg_link.{x.method}")


def _graph():
    from curation.kg.graph import KGraph

    g = KGraph.from_warehouse(warehouse())
    if g.n_nodes == 0:
        raise ValueError(f"no knowledge graph in {warehouse().root}: run `medcurate kg ingest` first")
    return g


@app.command("paths")
def paths(
    start: str = typer.Argument(..., help="node_id"),
    end: str = typer.Argument(..., help="node_id"),
    max_hops: int = typer.Option(3, "--max-hops"),
    max_paths: int = typer.Option(100, "--max-paths"),
    max_scan: int = typer.Option(
        20_000_000, "--max-scan", help="adjacency entries the search may scan; beyond it stops with a message"
    ),
    item_id: str = typer.Option(None, "--item-id", help="store the paths in kg_paths under this item id"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """All shortest paths between two nodes, up to --max-hops hops (unknown nodes: empty result)."""
    with cli_errors():
        r = _graph().shortest_paths(start, end, max_hops=max_hops, max_paths=max_paths, max_scan=max_scan)
        if item_id is not None and r.paths:
            _save_paths(item_id, r.paths)
    if as_json:
        out.print_json(json.dumps(asdict(r)))
        return
    out.print(f"{r.status}: {len(r.paths)} paths" + (f" of {r.distance} hops" if r.distance is not None else ""))
    for p in r.paths:
        out.print(f"  {p.text}")
    if r.message:
        console.print(f"  {r.message}")


def _save_paths(item_id: str, found) -> None:
    from curation.kg.ingest import kg_version
    from curation.kg.records import write_paths
    from curation.warehouse.lock import warehouse_lock
    from curation.warehouse.runs import start_run

    wh = warehouse()
    with warehouse_lock(wh, command="kg paths"), start_run(wh, "kg_paths", {"item_id": item_id}) as run:
        stats = write_paths(
            wh, [(item_id, p) for p in found], unit=f"paths-{run.run_id}", run_id=run.run_id, kg_version=kg_version(wh)
        )
        run.add_output("kg_paths", stats.unit, stats.rows)


@app.command("neighbors")
def neighbors(
    node: str = typer.Argument(..., help="node_id"),
    hops: int = typer.Option(2, "--hops"),
    max_nodes: int = typer.Option(1000, "--max-nodes"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Nodes within --hops hops of NODE, nearest first (unknown node: empty result)."""
    with cli_errors():
        g = _graph()
        r = g.neighbourhood(node, hops, max_nodes=max_nodes)
    if as_json:
        out.print_json(json.dumps(asdict(r)))
        return
    t = Table("hops", "node_id", "name", "kind")
    for node_id, h in r.nodes:
        i = g.index[node_id]
        t.add_row(str(h), node_id, g.names[i], g.kinds[i])
    out.print(t)
    console.print(f"{r.status}: {len(r.nodes)} nodes" + (f"; {r.message}" if r.message else ""))


@app.command("chains")
def chains(
    n: int = typer.Option(5, "--n"),
    min_hops: int = typer.Option(2, "--min-hops"),
    max_hops: int = typer.Option(4, "--max-hops"),
    max_start_degree: int = typer.Option(5, "--max-start-degree", help="start at nodes of at most this degree"),
    kind: list[str] = typer.Option(None, "--kind", help="start at nodes of these kinds"),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Sample simple chains of 2–4 hops starting at rare (low-degree) nodes."""
    with cli_errors():
        found = _graph().sample_chains(
            n, min_hops=min_hops, max_hops=max_hops, max_start_degree=max_start_degree, kinds=kind or None, seed=seed
        )
    for p in found:
        out.print(f"{p.hops} hops: {p.text}")
    if len(found) < n:
        console.print(f"only {len(found)} of {n} chains found")


@app.command("export")
def export(
    out_dir: Path = typer.Argument(..., help="parent directory of the release"),
    name: str = typer.Option("kg", "--name"),
    version: str = typer.Option("0.1.0", "--version"),
    source: list[str] = typer.Option(None, "--source", help="only these KG sources"),
    commercial_only: bool = typer.Option(False, "--commercial-only", help="only rows that allow commercial use"),
) -> None:
    """Export nodes/edges Parquet with a card, a per-source licence table and checksums."""
    from curation.kg.release import export_kg

    with cli_errors():
        m = export_kg(
            warehouse(), out_dir, name=name, version=version, sources=source or None, commercial_only=commercial_only
        )
    out.print(
        f"released {name} {version} to {Path(out_dir) / name / version}: {m['nodes']:,} nodes, {m['edges']:,} edges "
        f"({m['non_commercial_edges']:,} non-commercial), licences {', '.join(m['licenses'])}"
    )


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="kg")
