"""The ingest ledger (`source_files` table): which files were ingested, so reruns skip them (keyed by unit: path +
content sha256 + format + options + split; two paths with the same content are two units)."""

from __future__ import annotations

from dataclasses import dataclass

from curation.warehouse.store import Warehouse


@dataclass(frozen=True)
class LedgerEntry:
    source_file: str
    sha256: str
    unit: str
    table_name: str
    run_id: str


class Ledger:
    """A snapshot of the ledger taken at the start of an ingest run."""

    def __init__(self, warehouse: Warehouse):
        self.by_unit: dict[str, LedgerEntry] = {}
        self.by_path: dict[str, list[LedgerEntry]] = {}
        files = warehouse.files("source_files")
        if not files:
            return
        cols = ["source_file", "sha256", "unit", "table_name", "run_id"]
        import pyarrow.dataset as ds  # here: it imports pandas, which a parser process need not carry

        for r in ds.dataset([str(f) for f in files], format="parquet").to_table(columns=cols).to_pylist():
            e = LedgerEntry(**r)
            self.by_unit[e.unit] = e
            self.by_path.setdefault(e.source_file, []).append(e)

    def lookup(self, unit: str) -> LedgerEntry | None:
        return self.by_unit.get(unit)

    def older_versions(self, source_file: str, unit: str) -> list[LedgerEntry]:
        """Earlier units of the same path (other content or other settings): retired once the new one lands."""
        return [e for e in self.by_path.get(source_file, []) if e.unit != unit]
