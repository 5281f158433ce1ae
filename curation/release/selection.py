"""Selection: which rows of a source view go into a release config, and how many rows each rule removed.

Rules are applied in order (built-in guards first, then the manifest's rules); rule i is charged with the rows that
passed rules 1..i-1 and fail rule i, so the effects add up to rows_in - rows_out. All counting happens in one DuckDB
scan. A predicate that is NULL for a row (e.g. the row has no annotation from that stage) does not keep the row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import duckdb

from curation.deid.guard import release_rules
from curation.release import mixture
from curation.release.config import DatasetConfig, ReleaseConfig, Rule
from curation.release.errors import ReleaseError
from curation.release.splits import bucket_sql, split_key, split_sql

_MISSING_COLUMN = re.compile(r'Referenced column "([^"]+)" not found')
# Later stages quarantine a document or a record with source_ref = its doc_id / record_id.
# Records a later stage found bad (validation, scoring, ...). Ingest's refer to input lines that never became rows;
# synth's refer to its inputs and samples (a passage, an item, `<input>/s0`), whose rejected generations were never
# written, so neither may drop a released row that happens to share the id.
_QUARANTINED = "SELECT source_ref FROM quarantine WHERE stage NOT IN ('ingest', 'synth')"


@dataclass
class RuleEffect:
    name: str
    where: str
    removed: int
    builtin: bool


@dataclass
class Selection:
    config: DatasetConfig
    base_sql: str  # the source, with licence columns joined in when it has none of its own
    kept_sql: str  # kept rows plus _bucket and _split
    columns: list[str]  # exported columns
    source_columns: dict[str, str]  # name -> DuckDB type of base_sql
    split_key: str  # column hashed into train/validation
    rows_in: int = 0
    rows_out: int = 0
    effects: list[RuleEffect] = field(default_factory=list)

    def partition_sql(self, bucket: str, split: str) -> str:
        rows = f"SELECT * FROM ({self.kept_sql}) WHERE _bucket = '{bucket}' AND _split = '{split}'"
        return mixture.export_sql(rows, self.config, self.columns)


def describe(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, str]:
    return {r[0]: r[1] for r in con.execute(f"DESCRIBE {sql}").fetchall()}


def _base_sql(con: duckdb.DuckDBPyConnection, cfg: DatasetConfig) -> str:
    views = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if cfg.source not in views:
        raise ReleaseError(
            f"release config {cfg.name!r}: source view {cfg.source!r} does not exist; known: {sorted(views)}"
        )
    cols = describe(con, f"SELECT * FROM {cfg.source}")
    if "commercial_use" in cols or "doc_id" not in cols:
        return f"SELECT * FROM {cfg.source}"
    # Synthetic rows inherit the licence of the document they were generated from.
    return (
        f"SELECT s.*, d.license, d.commercial_use FROM {cfg.source} s "
        "LEFT JOIN (SELECT doc_id, license, commercial_use FROM documents_latest) d USING (doc_id)"
    )


def builtin_rules(cfg: DatasetConfig, columns: dict[str, str]) -> list[Rule]:
    """Guards every release gets: current, undeleted versions only; never quarantined; never contaminated; a
    synthetic row (one with a `prompt_id`) only when it passed the content gate, which no manifest can switch off."""
    rules = []
    if "is_current" in columns and "is_deleted" in columns:
        rules.append(Rule(name="current_not_deleted", where="is_current AND NOT is_deleted"))
    keys = [cfg.key] + (["doc_id"] if "doc_id" in columns and cfg.key != "doc_id" else [])
    rules.append(
        Rule(
            name="not_quarantined", where=" AND ".join(f'CAST("{k}" AS VARCHAR) NOT IN ({_QUARANTINED})' for k in keys)
        )
    )
    if "prompt_id" in columns:
        rules.append(Rule(name="gate_passed", where="gate_passed IS TRUE"))
    if cfg.require_decontam:
        rules.append(Rule(name="not_contaminated", where="contaminated IS FALSE"))
    return rules


def _check_rule(
    con: duckdb.DuckDBPyConnection, cfg: DatasetConfig, base: str, rule: Rule, builtin: bool, columns: dict[str, str]
) -> None:
    try:
        con.execute(f"DESCRIBE SELECT ({rule.where}) IS TRUE FROM ({base})").fetchall()
    except duckdb.BinderException as e:
        m = _MISSING_COLUMN.search(str(e))
        if not m:
            raise ReleaseError(f"release config {cfg.name!r}, rule {rule.name!r}: {e}") from None
        hints = {
            "not_contaminated": "run the decontam stage first, or set require_decontam: false for this config",
            "gate_passed": "these synthetic rows predate the content gate: run `medcurate synth` again",
        }
        hint = hints.get(rule.name, "") if builtin else ""
        hint = hint or "it comes from a stage that has not run, or it is misspelt"
        raise ReleaseError(
            f"release config {cfg.name!r}, rule {rule.name!r}: column {m.group(1)!r} does not exist in "
            f"{cfg.source} ({hint}); available columns: {', '.join(sorted(columns))}"
        ) from None
    except duckdb.Error as e:
        raise ReleaseError(f"release config {cfg.name!r}, rule {rule.name!r}: invalid SQL predicate: {e}") from None


def select(con: duckdb.DuckDBPyConnection, cfg: DatasetConfig, release: ReleaseConfig) -> Selection:
    """Check the rules and columns against the source, count every rule's effect, and return the kept-rows SQL."""
    # Materialized once (DuckDB spills to its temp directory when it exceeds memory): the views behind a source
    # (documents_latest's window functions, annotation joins) are costly, and the release reads the rows ~10 times.
    con.execute(f"CREATE OR REPLACE TABLE _release_{cfg.name} AS {_base_sql(con, cfg)}")
    base = f"SELECT * FROM _release_{cfg.name}"
    columns = describe(con, base)
    if cfg.key not in columns:
        raise ReleaseError(f"release config {cfg.name!r}: key column {cfg.key!r} does not exist in {cfg.source}")
    guards = builtin_rules(cfg, columns) + release_rules(con, columns)  # raw notes never leave (curation/deid)
    rules = [(r, True) for r in guards] + [(r, False) for r in cfg.rules]
    for rule, builtin in rules:
        _check_rule(con, cfg, base, rule, builtin, columns)
    export = cfg.columns or list(columns)
    missing = [c for c in export if c not in columns]
    if missing:
        raise ReleaseError(f"release config {cfg.name!r}: columns to export {missing} do not exist in {cfg.source}")
    kept = [f"({r.where}) IS TRUE" for r, _ in rules]
    counts = ["count(*)"] + [
        f"count(*) FILTER (WHERE {' AND '.join([*kept[:i], f'NOT ({kept[i]})'])})" for i in range(len(kept))
    ]
    row = con.execute(f"SELECT {', '.join(counts)} FROM ({base})").fetchall()[0]
    where = " AND ".join(kept) or "true"
    skey = split_key(set(columns), cfg.key, cfg.split_key)
    if skey not in columns:
        raise ReleaseError(f"release config {cfg.name!r}: split_key column {skey!r} does not exist in {cfg.source}")
    kept_sql = (
        f"SELECT *, {bucket_sql(set(columns))} AS _bucket, "
        f"{split_sql(skey, release.validation_fraction)} AS _split FROM ({base}) WHERE {where}"
    )
    sel = Selection(cfg, base, kept_sql, export, columns, skey, rows_in=row[0])
    sel.effects = [RuleEffect(r.name, r.where, n, b) for (r, b), n in zip(rules, row[1:], strict=True)]
    sel.rows_out = sel.rows_in - sum(e.removed for e in sel.effects)
    if cfg.balance_by:
        _balance(con, sel)
    _check_export(con, sel)
    return sel


def _balance(con: duckdb.DuckDBPyConnection, sel: Selection) -> None:
    """m1k-style balanced sampling, reported as one more rule effect so the effects still add up."""
    cfg = sel.config
    if cfg.balance_by not in sel.source_columns:
        raise ReleaseError(f"release config {cfg.name!r}: balance_by column {cfg.balance_by!r} does not exist")
    sel.kept_sql = mixture.balanced_sql(sel.kept_sql, cfg)
    kept = con.execute(f"SELECT count(*) FROM ({sel.kept_sql})").fetchall()[0][0]
    where = f"at most {cfg.balance_per_value} rows per {cfg.balance_by}"
    sel.effects.append(RuleEffect(f"balanced_by_{cfg.balance_by}", where, sel.rows_out - kept, False))
    sel.rows_out = kept


def _check_export(con: duckdb.DuckDBPyConnection, sel: Selection) -> None:
    """order_by and the export format's expressions must bind, before anything is written."""
    try:
        describe(con, sel.partition_sql("commercial", "train"))
    except duckdb.Error as e:
        raise ReleaseError(f"release config {sel.config.name!r}: order_by or format: {e}") from None


def check_not_empty(sel: Selection) -> None:
    if sel.rows_out:
        return
    if not sel.rows_in:
        raise ReleaseError(
            f"release config {sel.config.name!r}: source {sel.config.source} has no rows "
            "(mark the config optional: true to skip it when empty)"
        )
    effects = ", ".join(f"{e.name} removed {e.removed}" for e in sel.effects if e.removed)
    raise ReleaseError(
        f"release config {sel.config.name!r}: the selection is empty: all {sel.rows_in} rows of "
        f"{sel.config.source} were removed ({effects})"
    )
