"""`medcurate records eval` and `medcurate records check`: see docs/records.md."""

from __future__ import annotations

import json
import re
from pathlib import Path

import typer
from rich.table import Table

from curation.commands.common import cli_errors, out, warehouse
from curation.errors import UserError


def eval_table(
    table: str = typer.Option(..., "--table", help="a records_<name> table, or a table of generated rows"),
    schema_name: str = typer.Option(
        None, "--schema", help="the record schema of a table that is not records_<name> (SynLLM's generated rows)"
    ),
    reference: Path = typer.Option(None, "--reference", help="reference records (CSV or Parquet)"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Fidelity to a reference (marginals, correlations), rule-violation rate and privacy (DCR, exact copies)."""
    from curation.records.evaluate import evaluate, read_reference
    from curation.records.store import record_schema_of
    from curation.warehouse import connect

    with cli_errors():
        wh = warehouse()
        schema = record_schema_of(wh, f"records_{schema_name}" if schema_name else table)
        if reference is not None and not reference.is_file():
            raise FileNotFoundError(f"reference not found: {reference}")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", table):
            raise UserError(f"--table {table!r} is not a table name")
        cols = ", ".join(f'"{c.name}"' for c in schema.columns)
        synth = connect(wh).sql(f"SELECT {cols} FROM {table}").to_arrow_table()
        ref = read_reference(reference, schema) if reference is not None else None
        r = evaluate(schema, synth, ref)
    if as_json:
        out.print_json(json.dumps(r))
        return
    out.print(f"{table}: {r['rows']} rows; rule-violation rate {r['rules']['violation_rate']:.4f}")
    for name, n in r["rules"]["violations"].items():
        out.print(f"  {n} × {name}")
    if "fidelity" not in r:
        return
    t = Table("column", "metric", "distance", "null-rate diff", title=f"fidelity vs {r['reference_rows']} rows")
    for c, m in r["fidelity"]["columns"].items():
        dist = "-" if m["distance"] is None else f"{m['distance']:.4f}"
        t.add_row(c, m["metric"], dist, f"{m['null_rate_diff']:.4f}")
    out.print(t)
    corr, p = r["fidelity"]["correlations"], r["privacy"]
    if corr["pairs"]:
        out.print(
            f"correlations: {corr['pairs']} pairs, mean |Δr| {corr['mean_abs_diff']:.4f}, "
            f"max {corr['max_abs_diff']:.4f} ({corr['max_pair']})"
        )
    out.print(
        f"privacy (Gower DCR): min {p['dcr_min']:.4f}, p05 {p['dcr_p05']:.4f}, median {p['dcr_median']:.4f}; "
        f"exact-copy rate {p['exact_copy_rate']:.4f}"
    )


def check_schema(path: Path = typer.Argument(..., help="a record schema YAML file")) -> None:
    """Check a record schema: types, ranges, rules that parse, and contradictory rules."""
    from curation.records.schema import load_record_schema

    with cli_errors():
        try:
            s = load_record_schema(str(path), Path.cwd())
        except ValueError as e:
            from curation.errors import UserError

            raise UserError(f"{path}: {e}") from None
    out.print(f"[green]ok[/] {path}: records_{s.name}, {len(s.columns)} columns, {len(s.rules)} rules")


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_table)
    app.command("check")(check_schema)
