"""Keeping raw PHI in its place: a raw note never enters a release, and `medcurate sql` shows its text only when
asked to. Both are SQL over the `phi_status` column of `documents` (raw | deidentified | synthetic | NULL for
documents that are not patient notes)."""

from __future__ import annotations

import re

import duckdb

from curation.release.config import Rule

RAW = "raw"
PHI_STATUSES = ("raw", "deidentified", "synthetic")
_RAW_DOC_IDS = f"SELECT doc_id FROM documents WHERE phi_status = '{RAW}'"
_MASKED_COLUMNS = ("title", "text", "sections", "meta")


def not_raw_sql(columns: dict[str, str] | set[str] | list[str]) -> str | None:
    """The predicate that keeps raw notes out of a selection over a view with these columns: on the row's own
    `phi_status`, and on its `doc_id` (a record derived from a raw note, e.g. a synthetic QA pair); None when the
    view has neither column."""
    parts = []
    if "phi_status" in columns:
        parts.append(f"phi_status IS DISTINCT FROM '{RAW}'")
    if "doc_id" in columns:
        parts.append(f"CAST(doc_id AS VARCHAR) NOT IN ({_RAW_DOC_IDS})")
    return " AND ".join(parts) or None


def release_rules(con: duckdb.DuckDBPyConnection, columns: dict[str, str]) -> list[Rule]:
    """The built-in release rule `not_raw_phi`, present whenever the warehouse holds raw notes and the source
    could carry them (it has `phi_status` or `doc_id`); reported with the rows it removed like the other guards."""
    where = not_raw_sql(columns)
    if where is None or not con.execute(f"SELECT count(*) FROM ({_RAW_DOC_IDS})").fetchall()[0][0]:
        return []
    return [Rule(name="not_raw_phi", where=where)]


def mask_raw_text(con: duckdb.DuckDBPyConnection) -> None:
    """Redefine the `documents` view so that raw notes show NULL title, text, sections and meta; every view built
    on it (documents_latest, documents_current, documents_enriched) is masked with it. A guard against showing PHI
    by accident in `medcurate sql`, not an access control: the Parquet files stay readable."""
    rows = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'documents'").fetchall()
    if not rows:
        raise KeyError("no documents view to mask")
    row = rows[0]
    base = re.sub(r"(?is)^\s*CREATE\s+VIEW\s+\S+\s+AS\s+", "", row[0]).rstrip().rstrip(";")
    cols = {r[0] for r in con.execute(f"DESCRIBE {base}").fetchall()}
    if "phi_status" not in cols:
        return
    masked = ", ".join(
        f'CASE WHEN phi_status = \'{RAW}\' THEN NULL ELSE "{c}" END AS "{c}"' for c in _MASKED_COLUMNS if c in cols
    )
    con.execute(f"CREATE OR REPLACE VIEW documents AS SELECT * REPLACE ({masked}) FROM ({base})")
