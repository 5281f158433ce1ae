"""`medcurate dedup [MANIFEST]` and `medcurate dedup explain DOC_ID`."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from curation.commands.common import cli_errors, out, warehouse, warehouse_arg


def _config(manifest: Path | None):
    from curation.dedup.config import DedupConfig
    from curation.manifest import load_manifest

    return load_manifest(manifest, check_paths=False).dedup if manifest else DedupConfig()


def dedup(
    target: str = typer.Argument(None, metavar="[MANIFEST | explain]", help="manifest YAML, or `explain`"),
    doc_id: str = typer.Argument(None, metavar="[DOC_ID]", help="with explain: the document to explain"),
    manifest: Path = typer.Option(None, "--manifest", "-m", help="with explain: manifest whose dedup settings ran"),
    as_json: bool = typer.Option(False, "--json", help="with explain: print JSON"),
) -> None:
    """Deduplicate documents incrementally (`medcurate dedup [MANIFEST]`), or show a document's duplicate cluster,
    kept document and pairwise similarities (`medcurate dedup explain DOC_ID`)."""
    if target == "explain":
        with cli_errors():
            if not doc_id:
                raise ValueError("usage: medcurate dedup explain DOC_ID")
        return _explain(doc_id, manifest, as_json)
    _run(Path(target) if target else None)


def _run(manifest: Path | None) -> None:
    from flows.dedup import dedup_flow, dedup_with_config

    with cli_errors():
        if manifest is not None:
            _config(manifest)
            s = dedup_flow(manifest_path=str(manifest), warehouse=warehouse_arg())
        else:
            s = dedup_with_config(warehouse_arg(), _config(None), {"manifest": None})
    out.print(
        f"run {s['run_id']}: signed {s.get('signed', 0)}, candidates {s.get('candidates', 0)}, "
        f"new edges {s.get('edges_new', 0)}, {s.get('duplicates', 0)} duplicates in {s.get('clusters', 0)} clusters, "
        f"{s.get('annotations_written', 0)} annotations written (bands×rows {s['bands']}×{s['rows']})"
    )


def _explain(doc_id: str, manifest: Path | None, as_json: bool) -> None:
    from curation.dedup.explain import explain

    with cli_errors():
        r = explain(warehouse(), doc_id, _config(manifest))
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


def register(root: typer.Typer) -> None:
    root.command("dedup")(dedup)
