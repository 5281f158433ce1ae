"""`medcurate ner export`: NER sentences back to a CoNLL file. See docs/ner.md."""

from __future__ import annotations

from pathlib import Path

import typer

from curation.commands.common import cli_errors, out, warehouse

app = typer.Typer(help="Token-labelled NER data: export to CoNLL.", no_args_is_help=True)


@app.command("export")
def export(
    out_path: Path = typer.Option(..., "--out", "-o", help="the CoNLL file to write"),
    table: str = typer.Option("ner_sentences", "--table", help="a table of sentences with tokens and spans"),
    fmt: str = typer.Option("conll", "--format", help="conll (one token and its tag per line)"),
    scheme: str = typer.Option(None, "--scheme", help="iob1 | iob2 | bio (default: each sentence's own)"),
    separator: str = typer.Option("tab", "--separator", help="tab | space between columns"),
) -> None:
    """Write the sentences with their tags (from the spans) in file and line order."""
    from curation.errors import UserError
    from curation.ner.export import export_table

    with cli_errors():
        if fmt != "conll":
            raise UserError(f"--format {fmt!r}: only conll")
        if scheme not in (None, "iob1", "iob2", "bio"):
            raise UserError(f"--scheme {scheme!r}: iob1, iob2 or bio")
        if separator not in ("tab", "space"):
            raise UserError(f"--separator {separator!r}: tab or space")
        n = export_table(warehouse(), table, out_path, scheme=scheme, separator=separator)  # type: ignore[arg-type]
    out.print(f"{n} sentences → {out_path}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="ner")
