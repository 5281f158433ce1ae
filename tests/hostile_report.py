"""The hostile-input suite's outcome per case, for the table in docs/hardening.md (`bench/hostile.py` builds it).

A hostile case is a test marked `@pytest.mark.hostile(category, ok=..., bad=...)`: `ok` names what the test asserts
happens to the hostile input (`handled`: processed, every readable row kept and the bad part quarantined or left
untouched; `clear_error`: refused with an error the user can act on, exit 2 and its message), `bad` what a failed
assertion of that test would mean (`silent_loss`, `corruption`, `security`, `crash`). The outcome comes from the run:

- passed: `ok`;
- an assertion failed (or an expected error was not raised): `bad`;
- anything else raised, a timeout, or a failure in setup: `crash`;
- skipped (no root for a tmpfs, no shared data): `skipped`, counted apart.

With `--hostile-report PATH` every marked case's outcome is written to PATH as JSON when the session ends.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

OK = ("handled", "clear_error")
BAD = ("silent_loss", "crash", "corruption", "security")
REPORTS = pytest.StashKey[dict[str, dict[str, Any]]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--hostile-report", default=None, help="write each hostile case's outcome to this JSON file")


def pytest_configure(config: pytest.Config) -> None:  # the marker itself is declared in pyproject.toml
    config.stash[REPORTS] = {}


def _declared(item: pytest.Item) -> tuple[str, str, str]:
    mark = item.get_closest_marker("hostile")
    assert mark is not None
    (category,) = mark.args
    ok, bad = mark.kwargs["ok"], mark.kwargs["bad"]
    if ok not in OK or bad not in BAD:
        raise pytest.UsageError(f"{item.nodeid}: hostile(ok={ok!r}, bad={bad!r}): ok is one of {OK}, bad of {BAD}")
    return category, ok, bad


def _outcome(report: pytest.TestReport, call: pytest.CallInfo[None], ok: str, bad: str) -> str | None:
    """This phase's outcome (setup, call or teardown); None for a setup or teardown that passed."""
    if report.skipped:
        return "skipped"
    if report.passed:
        return ok if report.when == "call" else None
    if call.excinfo is not None and call.excinfo.errisinstance((AssertionError, pytest.fail.Exception)):
        return bad  # in the call, or a teardown check (e.g. a file left open on a full disk)
    return "crash"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report: pytest.TestReport = (yield).get_result()
    if item.get_closest_marker("hostile") is None:
        return
    category, ok, bad = _declared(item)
    outcome = _outcome(report, call, ok, bad)
    cases = item.config.stash[REPORTS]
    earlier = cases.get(item.nodeid, {}).get("outcome")
    if outcome is not None and earlier not in BAD:  # the first failure stands (a failed teardown after a pass counts)
        cases[item.nodeid] = {"category": category, "ok": ok, "bad": bad, "outcome": outcome}


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = session.config.getoption("--hostile-report")
    if path:
        Path(path).write_text(json.dumps(session.config.stash[REPORTS], indent=1))
