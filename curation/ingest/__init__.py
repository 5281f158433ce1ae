"""Ingest connectors: one module per source format, a shared runner for units, quarantine and the ledger."""
