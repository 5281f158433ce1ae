"""validate_table: run a table's expectation suite and row rules over the warehouse (or given data), in batches.

How it scales: Great Expectations' pandas engine needs its data in memory, so the data is streamed from DuckDB in
Arrow batches of `batch_rows` rows and GE validates each batch; per-expectation results are merged across batches
(unexpected counts summed, `mostly` re-evaluated on the totals). Checks that need the whole table at once (key
uniqueness, row counts) run as DuckDB aggregations over the full table (out-of-core), and column types are checked
on the Arrow schema (exact types, which pandas would blur). Memory is bounded by one batch plus the kept failures.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from curation.batches import rechunk
from curation.errors import disk_full_as
from curation.validate.report import ValidationReport
from curation.validate.row_rules import check_row, rules_for
from curation.validate.suites import Suite, load_suite
from curation.warehouse.runs import new_run_id
from curation.warehouse.schemas import arrow_type
from curation.warehouse.store import Warehouse, atomic_write_text

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

DEFAULT_BATCH_ROWS = 100_000
MAX_EXAMPLES = 20
MAX_PAYLOAD = 4000


def _same_type(actual: pa.DataType, expected: pa.DataType) -> bool:
    """Arrow type equality that ignores list child names, string encodings and the time zone's spelling."""
    if pa.types.is_string(expected) or pa.types.is_large_string(expected):
        return pa.types.is_string(actual) or pa.types.is_large_string(actual) or pa.types.is_string_view(actual)
    if pa.types.is_timestamp(expected):
        return pa.types.is_timestamp(actual) and actual.unit == expected.unit and bool(actual.tz) == bool(expected.tz)
    if pa.types.is_list(expected):
        return (pa.types.is_list(actual) or pa.types.is_large_list(actual)) and _same_type(
            actual.value_type, expected.value_type
        )
    if pa.types.is_struct(expected):
        return (
            pa.types.is_struct(actual)
            and [f.name for f in actual] == [f.name for f in expected]
            and all(_same_type(a.type, e.type) for a, e in zip(actual, expected, strict=True))
        )
    return actual == expected


def _result(exp: dict[str, Any], success: bool, observed: Any, engine: str, **kw: Any) -> dict[str, Any]:
    kwargs = exp["kwargs"]
    return {
        "expectation_type": exp["type"],
        "column": kwargs.get("column"),
        "kwargs": kwargs,
        "success": bool(success),
        "observed": observed,
        "unexpected_count": kw.get("unexpected_count", 0),
        "element_count": kw.get("element_count"),
        "engine": engine,
        "batches": kw.get("batches", 1),
        "exception": kw.get("exception"),
    }


def _type_results(suite: Suite, schema: pa.Schema) -> list[dict[str, Any]]:
    out = []
    for c in suite.columns:
        if not c.type:
            continue
        exp = {"type": "expect_column_values_to_be_of_type", "kwargs": {"column": c.name, "type_": c.type}}
        if c.name not in schema.names:
            out.append(_result(exp, False, "missing column", "arrow"))
            continue
        actual = schema.field(c.name).type
        out.append(_result(exp, _same_type(actual, arrow_type(c.type)), str(actual), "arrow"))
    return out


def _qi(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _select(rel: duckdb.DuckDBPyRelation, sql: str) -> list[tuple[Any, ...]]:
    """The rows of a SELECT over `rel` as `src` (DuckDB types query() as Optional: only a non-SELECT gives None)."""
    res = rel.query("src", sql)
    assert res is not None, sql
    return res.fetchall()


def _table_level(rel: duckdb.DuckDBPyRelation, exp: dict[str, Any]) -> dict[str, Any]:
    """Whole-table checks as DuckDB aggregations (out-of-core)."""
    kw = exp["kwargs"]
    try:
        if exp["type"] == "expect_table_row_count_to_be_between":
            n = _select(rel, "SELECT count(*) FROM src")[0][0]
            lo, hi = kw.get("min_value"), kw.get("max_value")
            ok = (lo is None or n >= lo) and (hi is None or n <= hi)
            return _result(exp, ok, n, "duckdb", element_count=n)
        cols = [kw["column"]] if exp["type"] == "expect_column_values_to_be_unique" else list(kw["column_list"])
        keys = ", ".join(_qi(c) for c in cols)
        dup_groups = _select(
            rel,
            f"SELECT {keys}, count(*) AS _n FROM src WHERE {' AND '.join(f'{_qi(c)} IS NOT NULL' for c in cols)} "
            f"GROUP BY ALL HAVING count(*) > 1 ORDER BY _n DESC, {keys}",
        )
        n_dup = sum(g[-1] for g in dup_groups)
        examples = [list(g[:-1]) if len(cols) > 1 else g[0] for g in dup_groups[:MAX_EXAMPLES]]
        return _result(exp, n_dup == 0, examples, "duckdb", unexpected_count=n_dup)
    except (duckdb.Error, KeyError) as e:
        return _result(exp, False, None, "duckdb", exception=f"{type(e).__name__}: {e}")


class _GXRunner:
    """One ephemeral Great Expectations context per validated table; validates pandas batches against the suite."""

    def __init__(self, table: str, expectations: list[dict[str, Any]], key: list[str]):
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )
        from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

        # No data docs site here (GE's ephemeral default creates a temporary one per context): the one site per
        # warehouse is built from the merged report by curation.validate.data_docs.
        config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False))
        self.ctx = gx.get_context(project_config=config)
        self.ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        batch_def = (
            self.ctx.data_sources.add_pandas("warehouse")
            .add_dataframe_asset(table)
            .add_batch_definition_whole_dataframe("batch")
        )
        suite = gx.ExpectationSuite(name=table)
        for e in expectations:
            suite.add_expectation_configuration(
                ExpectationConfiguration(type=e["type"], kwargs=e["kwargs"], meta=e.get("meta") or None)
            )
        suite = self.ctx.suites.add(suite)
        self.vd = self.ctx.validation_definitions.add(gx.ValidationDefinition(name=table, data=batch_def, suite=suite))
        self.result_format = {"result_format": "COMPLETE", "unexpected_index_column_names": key}

    def run(self, df):
        return self.vd.run(batch_parameters={"dataframe": df}, result_format=self.result_format)


def _exception(info: dict[str, Any] | None) -> str | None:
    """GE reports an exception either directly or keyed by the metric that raised it."""
    if not info:
        return None
    if "raised_exception" in info:
        return info.get("exception_message") if info["raised_exception"] else None
    for v in info.values():
        if isinstance(v, dict) and v.get("raised_exception"):
            return v.get("exception_message")
    return None


def _merge(acc: dict[str, dict[str, Any]], gx_result) -> list[tuple[str, str, dict]]:
    """Fold one batch's GE results into `acc`; return (expectation label, column, unexpected index entry) triples."""
    unexpected_rows = []
    for i, r in enumerate(gx_result.results):
        cfg = r.expectation_config
        label = f"{i}"
        res = r.result or {}
        msg = _exception(r.exception_info)
        cur = acc.get(label)
        observed = res.get("observed_value", res.get("partial_unexpected_list"))
        if cur is None:
            cur = acc[label] = _result(
                {"type": cfg.type, "kwargs": dict(cfg.kwargs)},
                r.success,
                observed,
                "great_expectations",
                batches=0,
                element_count=0,
            )
            cur["_missing"] = 0
        cur["batches"] += 1
        cur["success"] = cur["success"] and r.success
        cur["unexpected_count"] += res.get("unexpected_count") or 0
        cur["element_count"] += res.get("element_count") or 0
        cur["_missing"] += res.get("missing_count") or 0
        if msg and not cur["exception"]:
            cur["exception"] = msg
        if not r.success and "partial_unexpected_list" in res:
            seen = cur["observed"] if isinstance(cur["observed"], list) else []
            cur["observed"] = (seen + [v for v in res["partial_unexpected_list"] if v not in seen])[:MAX_EXAMPLES]
        elif not r.success and "observed_value" in res:
            cur["observed"] = res["observed_value"]
        for entry in res.get("unexpected_index_list") or []:
            if isinstance(entry, dict):
                unexpected_rows.append((cfg.type, cfg.kwargs.get("column"), entry))
    return unexpected_rows


def _finish_merge(acc: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Re-evaluate `mostly` on totals: a batch-wise success is not a table-wise one, and vice versa."""
    out = []
    for cur in acc.values():
        missing = cur.pop("_missing")
        mostly = cur["kwargs"].get("mostly")
        if mostly is not None and cur["batches"] > 1 and not cur["exception"]:
            nonmissing = cur["element_count"] - missing
            cur["success"] = nonmissing == 0 or cur["unexpected_count"] <= (1 - mostly) * nonmissing
        out.append(cur)
    return out


def _key_of(key: list[str], row: dict[str, Any]) -> str:
    return "|".join(str(row.get(k)) for k in key) if key else json.dumps(row, default=str)[:200]


def _relation(wh_or_con: Any, table: str, data: Any) -> tuple[duckdb.DuckDBPyConnection, Any, Warehouse | None]:
    """(connection, relation or None when the table does not exist, warehouse or None)."""
    wh = None
    if isinstance(wh_or_con, duckdb.DuckDBPyConnection):
        con = wh_or_con
    else:
        from curation.warehouse.catalog import connect

        wh = wh_or_con if isinstance(wh_or_con, Warehouse) else Warehouse(wh_or_con)
        con = connect(wh)
    if data is None:
        exists = con.execute(
            "SELECT count(*) FROM duckdb_views() WHERE view_name = ? UNION ALL "
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?",
            [table, table],
        ).fetchall()
        if not any(n for (n,) in exists) or (wh is not None and _no_data_yet(wh, table)):
            return con, None, wh
        return con, con.sql(f"SELECT * FROM {_qi(table)}"), wh
    if isinstance(data, duckdb.DuckDBPyRelation):
        return con, data, wh
    if isinstance(data, pa.Table | pa.RecordBatch):
        return con, con.from_arrow(data if isinstance(data, pa.Table) else pa.Table.from_batches([data])), wh
    raise TypeError(f"data must be a pyarrow Table or a DuckDB relation, not {type(data).__name__}")


def _no_data_yet(wh: Warehouse, table: str) -> bool:
    """A table with a schema but no written units: its view is an empty placeholder, not data to validate."""
    from curation.warehouse.schemas import all_schemas

    return table in all_schemas() and not wh.files(table)


def _batches(rel: duckdb.DuckDBPyRelation, batch_rows: int) -> Iterator[pa.Table]:
    yield from rechunk(rel.to_arrow_reader(batch_rows), batch_rows)


def validate_table(
    wh_or_con: Warehouse | str | Path | duckdb.DuckDBPyConnection,
    table: str,
    *,
    data: pa.Table | duckdb.DuckDBPyRelation | None = None,
    run_id: str | None = None,
    out_dir: Path | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    max_failing_rows: int = 10_000,
    data_docs: bool = True,
    docs_root: Path | None = None,
    quarantine: Any = None,
) -> ValidationReport:
    """Validate `table` (the warehouse view of that name, or `data` standing in for it) against its suite.

    Writes <out_dir>/validation.json (this report) and ge_results.jsonl (Great Expectations' result per batch), and
    adds the result to the Data Docs site under `docs_root` (data_docs/index.html: every table and run). out_dir
    defaults to <warehouse>/validation/<run_id>/<table>/ when a Warehouse is given, docs_root to
    <warehouse>/validation/ (or the parent of an explicit out_dir); with a bare DuckDB connection and no out_dir
    nothing is written. Rows failing row rules or row-level
    expectations are added to `quarantine` (a curation.warehouse.Quarantine) when one is given.
    """
    run_id = run_id or new_run_id("validate")
    suite = load_suite(table)
    report = ValidationReport(table=table, run_id=run_id)
    _con, rel, wh = _relation(wh_or_con, table, data)  # keep the connection alive while rel is read
    if out_dir is None and wh is not None:
        out_dir = wh.root / "validation" / run_id / table
    if docs_root is None and out_dir is not None:
        docs_root = wh.root / "validation" if wh is not None else Path(out_dir).parent
    if rel is None:
        report.skipped = f"table {table!r} does not exist in the warehouse"
        return _write(report, out_dir, None)

    key = list(suite.key)
    for exp in suite.table_expectations():
        report.results.append(_table_level(rel, exp))
    gx_runner = _GXRunner(table, suite.batch_expectations(), [k for k in key if k in rel.columns])
    rules, report.rules_skipped = rules_for(table, rel.columns)
    report.rules_applied = [r.name for r in rules]

    acc: dict[str, dict[str, Any]] = {}
    ge_log = _JsonLines(Path(out_dir) / "ge_results.jsonl") if out_dir is not None else None
    # a failure leaves no partial report behind; a full disk ends as one line naming the report
    undo = ge_log.discard if ge_log is not None else None
    with disk_full_as(f"validation report of {table}", out_dir or ".", undo=undo):
        failures: dict[str, dict[str, Any]] = {}
        schema_checked = False
        for batch in _batches(rel, batch_rows):
            if not schema_checked:
                report.results.extend(_type_results(suite, batch.schema))
                schema_checked = True
            if batch.num_rows == 0 and report.batches:
                continue
            report.rows += batch.num_rows
            report.batches += 1
            if len(failures) >= max_failing_rows:  # enough failing keys: stop asking GE for every unexpected index
                gx_runner.result_format = {"result_format": "SUMMARY"}
            res = gx_runner.run(batch.to_pandas())
            if ge_log is not None:
                ge_log.write(res.to_json_dict())
            for etype, column, entry in _merge(acc, res):
                k = _key_of(key, entry)
                _add_failure(
                    report,
                    failures,
                    k,
                    f"expectation:{etype}" + (f":{column}" if column else ""),
                    f"{column}={entry.get(column)!r}" if column else "",
                    entry,
                    max_failing_rows,
                )
            if rules:  # only the columns the rules read; the full row is fetched for a failing row alone
                needed = [c for c in batch.schema.names if c in set(key).union(*(r.columns for r in rules))]
                for i, row in enumerate(batch.select(needed).to_pylist()):
                    for v in check_row(rules, row):
                        _add_failure(
                            report,
                            failures,
                            _key_of(key, row),
                            f"row_rule:{v.reason}",
                            v.detail,
                            batch.slice(i, 1).to_pylist()[0],
                            max_failing_rows,
                        )
        if not schema_checked:  # no batches at all: still check the declared columns and types
            report.results.extend(_type_results(suite, _empty_schema(rel)))
            res = gx_runner.run(_empty_frame(rel))
            if ge_log is not None:
                ge_log.write(res.to_json_dict())
            _merge(acc, res)
        report.results.extend(_finish_merge(acc))
        report.success = all(r["success"] for r in report.results)
        report.failing_rows = sorted(failures)
        report.row_failures = [f for fs in failures.values() for f in fs["items"]]
        if quarantine is not None:
            for f in report.row_failures:
                quarantine.add(f["rule"], f"{table}:{f['key']}", f["payload"], f["detail"])
        if data_docs and docs_root is not None:
            from curation.validate.data_docs import DocsSite

            report.artifacts["data_docs"] = str(DocsSite(Path(docs_root)).add(report, suite.all_expectations()))
        return _write(report, out_dir, ge_log)


def _empty_schema(rel: duckdb.DuckDBPyRelation) -> pa.Schema:
    return rel.limit(0).to_arrow_table().schema


def _empty_frame(rel: duckdb.DuckDBPyRelation):
    return rel.limit(0).to_arrow_table().to_pandas()


def _add_failure(
    report: ValidationReport,
    failures: dict[str, dict[str, Any]],
    key: str,
    rule: str,
    detail: str,
    row: dict[str, Any],
    limit: int,
) -> None:
    if key not in failures and len(failures) >= limit:
        report.truncated_failures += 1
        return
    payload = json.dumps(row, default=str, ensure_ascii=False)[:MAX_PAYLOAD]
    failures.setdefault(key, {"items": []})["items"].append(
        {"key": key, "rule": rule, "detail": detail, "payload": payload}
    )


class _JsonLines:
    """GE's per-batch results, one JSON document per line, written as they come (memory stays one batch) to a
    hidden file that is renamed into place at the end."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.tmp = path.with_name(f".{path.name}.tmp")
        self.f = open(self.tmp, "w", encoding="utf-8")  # noqa: SIM115 - closed by close()

    def write(self, obj: dict[str, Any]) -> None:
        self.f.write(json.dumps(obj, default=str) + "\n")

    def close(self) -> Path:
        self.f.close()
        os.replace(self.tmp, self.path)
        return self.path

    def discard(self) -> None:
        """Remove the file, finished or not (the report it belongs to was not written)."""
        with contextlib.suppress(OSError):  # closing flushes, which fails again on a full disk
            self.f.close()
        self.tmp.unlink(missing_ok=True)
        self.path.unlink(missing_ok=True)


def _write(report: ValidationReport, out_dir: Path | None, ge_log: _JsonLines | None) -> ValidationReport:
    if out_dir is None:
        return report
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if ge_log is not None:
        report.artifacts["ge_results"] = str(ge_log.close())
    report.artifacts["report"] = str(out_dir / "validation.json")
    atomic_write_text(out_dir / "validation.json", report.to_json(), table=f"validation report of {report.table}")
    return report
