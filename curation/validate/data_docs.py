"""One Great Expectations Data Docs site per warehouse (or per release), with an index across tables and runs.

Layout under a docs root (`<warehouse>/validation/` or `<release>/validation/`):

    gx/expectations/<table>.json          the suites (GE's expectations store)
    gx/validations/<table>/<run>/...       one merged validation result per table and run (GE's results store)
    data_docs/index.html                   the site: every run of every table, with its status, and a page each

Each validated table adds its result (all expectations, including the whole-table ones DuckDB computed) to the
stores and GE's SiteBuilder renders that result's page and the index again (the latest INDEX_LIMIT results: GE
reads every listed result to build it). The pages render offline: GE's stock
templates load jQuery, Bootstrap, bootstrap-table, Vega and Font Awesome from CDNs (so the index table is empty
without network); our view classes put `docs_templates/` first, which inline the styles, render the index table
on the server and draw icons as text glyphs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView

from curation.errors import disk_full_as, is_disk_full
from curation.validate.summary import SITE_DIR

TEMPLATES = Path(__file__).with_name("docs_templates")
SITE = "medcurate"
INDEX_LIMIT = 300  # the index lists the latest results (GE reads each one); older pages stay on disk
STORE_DIR = "gx"
DATASOURCE = "warehouse"
SITE_BUILDER_LOGGER = "great_expectations.render.renderer.site_builder"


class _OfflineTemplates:
    """Looks templates up in docs_templates/ before GE's own (GE's custom_views_directory only adds, never
    overrides)."""

    env: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.env.loader = ChoiceLoader([FileSystemLoader(str(TEMPLATES)), self.env.loader])


class OfflineIndexPageView(_OfflineTemplates, DefaultJinjaIndexPageView):
    """The site index, rendered without CDN assets."""


class OfflinePageView(_OfflineTemplates, DefaultJinjaPageView):
    """Suite and validation pages, rendered without CDN assets."""


def _store(root: Path, kind: str, sub: str) -> dict[str, Any]:
    return {
        "class_name": kind,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(root / STORE_DIR / sub)},
    }


def _view(cls: type) -> dict[str, str]:
    return {"module_name": __name__, "class_name": cls.__name__}


def _context(root: Path):
    """An ephemeral GE context whose suites and results live in files under `root`, with the one Data Docs site."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import DataContextConfig, ProgressBarsConfig

    page = {"view": _view(OfflinePageView)}
    config = DataContextConfig(
        stores={
            "expectations_store": _store(root, "ExpectationsStore", "expectations"),
            "validation_results_store": _store(root, "ValidationResultsStore", "validations"),
            "checkpoint_store": {"class_name": "CheckpointStore"},
        },
        expectations_store_name="expectations_store",
        validation_results_store_name="validation_results_store",
        checkpoint_store_name="checkpoint_store",
        data_docs_sites={
            SITE: {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(root / SITE_DIR),
                },
                "site_index_builder": {
                    "class_name": "DefaultSiteIndexBuilder",
                    "view": _view(OfflineIndexPageView),
                    "validation_results_limit": INDEX_LIMIT,
                },
                "site_section_builders": {
                    "expectations": page,
                    "validations": page,
                    "profiling": "None",
                },
            }
        },
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    return gx.get_context(project_config=config)


def _files(root: Path) -> dict[Path, tuple[int, int]]:
    """The GE stores' and the site's files (not the run reports beside them), with mtime and size."""
    found = (p for sub in (STORE_DIR, SITE_DIR) for p in (root / sub).rglob("*"))
    return {p: (st.st_mtime_ns, st.st_size) for p in found if p.is_file() and (st := p.stat())}


def _rollback(root: Path, before: dict[Path, tuple[int, int]]) -> None:
    """Remove every file under `root` that is new or changed since `before`: GE writes stores and pages in place,
    so a failed add may leave a truncated result or page. What is removed is redone by the next add (the suite,
    this run's result and page, the index); older results and pages were not touched."""
    for p, sig in _files(root).items():
        if before.get(p) != sig:
            p.unlink(missing_ok=True)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.errors: list[OSError] = []

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if is_disk_full(Exception(msg)):
            self.errors.append(OSError(errno.ENOSPC, msg.rsplit("Traceback:", 1)[0].strip()))


@contextlib.contextmanager
def _swallowed_write_errors() -> Iterator[list[OSError]]:
    """GE's SiteBuilder catches any exception while it renders and writes a page and only logs it, so a page cut
    short by a full disk would pass silently; the ENOSPC errors it logs are collected here to be raised."""
    handler = _Collect()
    logger = logging.getLogger(SITE_BUILDER_LOGGER)
    logger.addHandler(handler)
    try:
        yield handler.errors
    finally:
        logger.removeHandler(handler)


def _expectation_result(r: dict[str, Any]):
    from great_expectations.core import ExpectationValidationResult
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    result: dict[str, Any] = {"observed_value": r.get("observed")}
    if r.get("element_count") is not None:
        result["element_count"] = r["element_count"]
    if r.get("unexpected_count"):
        n, total = r["unexpected_count"], r.get("element_count") or 0
        pct = 100.0 * n / total if total else 100.0
        result.update(
            unexpected_count=n,
            missing_count=0,
            unexpected_percent=pct,
            unexpected_percent_total=pct,
            unexpected_percent_nonmissing=pct,
        )
        if isinstance(r.get("observed"), list):
            result["partial_unexpected_list"] = r["observed"]
    exc = r.get("exception")
    return ExpectationValidationResult(
        success=bool(r["success"]),
        expectation_config=ExpectationConfiguration(
            type=r["expectation_type"], kwargs=dict(r["kwargs"]), meta={"engine": r.get("engine")}
        ),
        result=result,
        exception_info={"raised_exception": bool(exc), "exception_message": exc, "exception_traceback": None},
    )


@dataclass
class DocsSite:
    """The Data Docs site under `root`; `add` records one table's validation and re-renders its page and the index."""

    root: Path

    @property
    def index(self) -> Path:
        return self.root / SITE_DIR / "index.html"

    def add(self, report: Any, expectations: list[dict[str, Any]], asset: str = DATASOURCE) -> Path:
        """Store `report` (a ValidationReport) as the result of suite `report.table` in run `report.run_id`. A
        failure (a full disk: DiskFull) removes what this call wrote."""
        before = _files(self.root)
        with (
            disk_full_as("Data Docs", self.root / SITE_DIR, undo=lambda: _rollback(self.root, before)),
            _swallowed_write_errors() as swallowed,
        ):
            self._add(report, expectations, asset)
            if swallowed:  # a page that did not fit: GE logged the ENOSPC and went on
                raise swallowed[0]
        return self.index

    def _add(self, report: Any, expectations: list[dict[str, Any]], asset: str) -> None:
        import great_expectations as gx
        from great_expectations.core import ExpectationSuiteValidationResult
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )
        from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

        ctx = _context(self.root)
        suite = gx.ExpectationSuite(name=report.table)
        for e in expectations:
            suite.add_expectation_configuration(ExpectationConfiguration(type=e["type"], kwargs=e["kwargs"]))
        ctx.suites.add_or_update(suite)
        run = RunIdentifier(run_name=report.run_id, run_time=dt.datetime.now(dt.UTC))
        results = [_expectation_result(r) for r in report.results]
        passed = sum(r.success for r in results)
        result = ExpectationSuiteValidationResult(
            success=bool(report.success),
            results=results,
            suite_name=report.table,
            statistics={
                "evaluated_expectations": len(results),
                "successful_expectations": passed,
                "unsuccessful_expectations": len(results) - passed,
                "success_percent": 100.0 * passed / len(results) if results else 100.0,
            },
            meta={
                "run_id": run,
                "batch_spec": {"data_asset_name": report.table, "rows": report.rows, "source": asset},
                "failing_rows": len(report.failing_rows),
            },
        )
        suite_id = ExpectationSuiteIdentifier(name=report.table)
        key = ValidationResultIdentifier(expectation_suite_identifier=suite_id, run_id=run, batch_identifier=asset)
        ctx.validation_results_store.set(key, result)
        ctx.build_data_docs(site_names=[SITE], resource_identifiers=[key, suite_id])
