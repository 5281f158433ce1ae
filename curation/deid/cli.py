"""`medcurate deid eval GOLD`: detection scored against gold spans."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from curation.commands.common import cli_errors, out
from curation.errors import UserError


def eval_gold(
    gold: Path = typer.Argument(..., help="gold notes (JSONL with spans)"),
    recognizers: str = typer.Option(None, "--recognizers", help="pattern | full (default: full)"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Score the detector against gold spans: precision / recall / F1 per class, token and entity level."""
    from curation.deid.evaluate import evaluate, load_gold

    with cli_errors():
        if not gold.is_file():
            raise FileNotFoundError(f"gold file not found: {gold}")
        if recognizers not in (None, "pattern", "full"):
            raise UserError(f"--recognizers: {recognizers!r} is not pattern or full")
        r = evaluate(load_gold(gold), recognizers or "full")
    if as_json:
        out.print_json(json.dumps(r))
        return
    t = Table(
        "class",
        "tok P",
        "tok R",
        "tok F1",
        "ent P",
        "ent R",
        "ent F1",
        "entities",
        title=f"{r['notes']} notes, {r['recognizers']}",
    )
    for c in sorted(set(r["token"]) | set(r["entity"])):
        tok, ent = r["token"].get(c, {}), r["entity"].get(c, {})
        cells = [f"{d.get(k, 0):.3f}" for d in (tok, ent) for k in ("precision", "recall", "f1")]
        t.add_row(c, *cells, str(ent.get("tp", 0) + ent.get("fn", 0)))
    out.print(t)


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_gold)
