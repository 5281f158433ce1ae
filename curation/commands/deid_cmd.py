"""`medcurate deid [MANIFEST]` and `medcurate deid eval GOLD`."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from curation.commands.common import cli_errors, out, warehouse


def _config(manifest: Path | None, recognizers: str | None, replace: str | None):
    """The manifest's `deid` section (until the manifest model has one, read from the YAML), with CLI overrides."""
    import yaml
    from pydantic import ValidationError

    from curation.deid.config import DeidConfig

    raw: dict = {}
    if manifest is not None:
        if not manifest.is_file():
            raise FileNotFoundError(f"manifest not found: {manifest}")
        raw = dict((yaml.safe_load(manifest.read_text()) or {}).get("deid") or {})
    if recognizers:
        raw["recognizers"] = recognizers
    if replace:
        raw["replace"] = replace
    try:
        return DeidConfig.model_validate(raw)
    except ValidationError as e:
        raise ValueError(
            "; ".join(f"{'.'.join(map(str, ('deid', *x['loc'])))}: {x['msg']}" for x in e.errors())
        ) from None


def deid(
    target: str = typer.Argument(None, metavar="[MANIFEST | eval]", help="manifest YAML, or `eval`"),
    gold: Path = typer.Argument(None, metavar="[GOLD]", help="with eval: gold notes (JSONL with spans)"),
    recognizers: str = typer.Option(None, "--recognizers", help="pattern | full (default: the manifest's, or full)"),
    replace: str = typer.Option(None, "--replace", help="surrogate | placeholder"),
    force: bool = typer.Option(False, "--force", help="redo every raw note (removes earlier deid outputs)"),
    as_json: bool = typer.Option(False, "--json", help="with eval: print JSON"),
) -> None:
    """De-identify raw clinical notes (`medcurate deid [MANIFEST]`), or score the detector against gold spans
    (`medcurate deid eval GOLD`: precision / recall / F1 per class, token and entity level)."""
    if target == "eval":
        return _eval(gold, recognizers, as_json)
    _run(Path(target) if target else None, recognizers, replace, force)


def _run(manifest: Path | None, recognizers: str | None, replace: str | None, force: bool) -> None:
    from curation.deid.stage import STAGE, run_deid
    from curation.warehouse import refresh_catalog, start_run

    with cli_errors():
        cfg = _config(manifest, recognizers, replace)
        wh = warehouse().ensure()
        with start_run(
            wh, STAGE, {"manifest": str(manifest) if manifest else None, **cfg.model_dump(mode="json")}
        ) as run:
            counts = run_deid(wh, cfg, run, force=force)
        refresh_catalog(wh)
    by_class = ", ".join(f"{k.removeprefix('spans_')} {v}" for k, v in counts.items() if k.startswith("spans_"))
    out.print(
        f"run {run.run_id}: {counts['notes']} notes de-identified, {counts['spans']} PHI spans"
        f"{f' ({by_class})' if by_class else ''}, {counts['notes_without_phi']} without PHI, "
        f"{counts['quarantined']} quarantined, {counts['notes_per_s']} notes/s"
    )


def _eval(gold: Path | None, recognizers: str | None, as_json: bool) -> None:
    from curation.deid.evaluate import evaluate, load_gold

    with cli_errors():
        if gold is None:
            raise ValueError("usage: medcurate deid eval GOLD")
        if not gold.is_file():
            raise FileNotFoundError(f"gold file not found: {gold}")
        if recognizers not in (None, "pattern", "full"):
            raise ValueError(f"--recognizers: {recognizers!r} is not pattern or full")
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


def register(root: typer.Typer) -> None:
    root.command("deid")(deid)
