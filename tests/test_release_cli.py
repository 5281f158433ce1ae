"""`medcurate release MANIFEST --version` and `medcurate release verify DIR` through the CLI and the Prefect flow."""

from __future__ import annotations

import json
import logging
import sys

from typer.testing import CliRunner

from curation.cli import app
from tests import release_support as rs

pytest_plugins = ["tests.release_support"]  # the release_env / env fixtures


def invoke(args: list[str]):
    """CliRunner swaps sys.stderr for a stream it closes afterwards; Prefect's console handlers configured during
    a flow run keep that closed stream, so point them back at the real stderr after each in-process invocation."""
    r = CliRunner().invoke(app, args)
    loggers = [
        logging.getLogger(),
        *(lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)),
    ]
    for h in (h for lg in loggers for h in lg.handlers):
        if isinstance(h, logging.StreamHandler) and getattr(h.stream, "closed", False):
            h.stream = sys.__stderr__
            if hasattr(h, "console"):
                h.console.file = sys.__stderr__
    return r


def test_cli_release_then_verify(env, prefect_harness):
    wh, tmp = env
    m = rs.manifest_yaml(tmp / "m.yaml")
    base = ["--warehouse", str(wh.root), "release"]
    r = invoke([*base, str(m), "--version", "1.2.3", "--publish", "tar"])
    assert r.exit_code == 0, r.output
    d = tmp / "releases/medtest/1.2.3"
    assert "released" in r.output and (tmp / "releases/medtest/medtest-1.2.3.tar.gz").is_file()
    r = invoke([*base, str(m), "--version", "1.2.3"])
    assert r.exit_code == 2 and "already exists" in r.output
    r = invoke([*base, "verify", str(d)])
    assert r.exit_code == 0 and "ok" in r.output
    shard = sorted((d / "data/grounded_qa/commercial").glob("*.parquet"))[0]
    shard.write_bytes(shard.read_bytes()[:-10] + b"0123456789")
    r = invoke([*base, "verify", str(d)])
    assert r.exit_code == 1 and shard.name in r.output
    runs = [json.loads(p.read_text()) for p in wh.runs_dir.glob("*-release-*.json")]
    ok = [x for x in runs if x["status"] == "completed"]
    assert len(ok) == 1 and ok[0]["counts"] == {"documents.rows": 7, "grounded_qa.rows": 4}
    assert any(x["status"] == "failed" and "already exists" in x["errors"][0]["message"] for x in runs)


def test_flow_takes_version_from_manifest_like_build(env, prefect_harness):
    from curation.flows.stages import stage_flow

    wh, tmp = env
    m = rs.manifest_yaml(tmp / "m.yaml", version="0.1.0")
    s = stage_flow("release")(manifest_path=str(m), warehouse=str(wh.root))
    assert s["path"].endswith("releases/medtest/0.1.0") and s["rows"] == 11 and s["run_id"]
    man = json.loads((tmp / "releases/medtest/0.1.0/manifest.json").read_text())
    assert man["run_id"] == s["run_id"]


def test_cli_hf_dry_run_and_missing_token(env, prefect_harness, monkeypatch):
    wh, tmp = env
    monkeypatch.delenv("HF_TOKEN", raising=False)
    m = rs.manifest_yaml(tmp / "m.yaml", hf_repo="org/medtest")
    base = ["--warehouse", str(wh.root), "release", str(m), "--version", "1.0.0", "--publish", "hf"]
    r = invoke(base)
    assert r.exit_code == 2 and "HF_TOKEN" in r.output
    r = invoke([*base, "--dry-run"])
    assert (
        r.exit_code == 0
        and "dry run, nothing written or sent" in r.output
        and "create_repo(repo_id='org/medtest'" in r.output
    )
