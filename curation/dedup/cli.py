"""`medcurate dedup explain DOC_ID`: a document's duplicate cluster, the kept document and pairwise similarities."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from curation.commands.common import cli_errors, out, warehouse


def explain(
    doc_id: str = typer.Argument(..., help="the document to explain"),
    manifest: Path = typer.Option(
        None, "--manifest", "-m", help="manifest whose dedup settings ran (default: defaults)"
    ),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Show a document's duplicate cluster, the kept document and the similarities behind it."""
    from curation.dedup.config import DedupConfig
    from curation.dedup.explain import explain as run_explain
    from curation.manifest import load_manifest

    with cli_errors():
        cfg = load_manifest(manifest, check_paths=False).section("dedup") if manifest else DedupConfig()
        r = run_explain(warehouse(), doc_id, cfg)
    if as_json:
        out.print_json(json.dumps(r, default=str))
        return
    out.print(
        f"{r['doc_id']}: cluster {r['cluster_id']} ({r['cluster_size']} members), kept [bold]{r['kept']}[/] "
        f"by {r['keep_policy']}"
    )
    t = Table("doc_id", "duplicate", "reason", "status", "current", "commercial", "text_len", "max_sim")
    for m in r["members"]:
        t.add_row(
            m["doc_id"],
            str(m["is_duplicate"]),
            str(m["dup_reason"] or ""),
            m["dup_status"],
            str(m["is_current"]),
            str(m["commercial_use"]),
            str(m["text_len"]),
            f"{m['max_similarity']:.3f}",
        )
    out.print(t)
    if r["pairs"]:
        p = Table("a", "b", "estimated Jaccard", "exact Jaccard")
        for x in r["pairs"]:
            p.add_row(x["a"], x["b"], "-" if x["estimated"] is None else f"{x['estimated']:.3f}", f"{x['exact']:.3f}")
        out.print(p)


def register(app: typer.Typer) -> None:
    app.command("explain")(explain)
