"""Release bad input: a rule on a missing column, an empty selection, an existing version, a bad version, a
Hub token missing or invalid; and the validation hook (pass, fail, unavailable)."""

from __future__ import annotations

import json
import sys
import tarfile
import types
from dataclasses import dataclass, field

import pytest

from curation.manifest import ManifestError, load_manifest
from curation.release import validation, verify
from curation.release.errors import ReleaseError
from tests import release_support as rs
from tests.test_release import release

pytest_plugins = ["tests.release_support"]  # the release_env / env fixtures

TOKEN = "hf_" + "abcdefghijklmnopqrstuvwxyz0123"


def test_rule_on_missing_column_names_rule_and_column(env):
    wh, tmp = env
    m = rs.manifest_yaml(
        tmp / "m.yaml",
        configs=[
            {"name": "documents", "rules": [{"name": "quality", "where": "edu_int >= 3 AND toxicity_score < 0.5"}]}
        ],
    )
    with pytest.raises(ReleaseError, match=r"rule 'quality': column 'toxicity_score' does not exist"):
        release(wh, m)
    assert not (tmp / "releases" / "medtest" / "1.0.0").exists()


def test_builtin_decontam_rule_needs_the_decontam_column(env):
    wh, tmp = env
    m = rs.manifest_yaml(tmp / "m.yaml", configs=[{"name": "documents", "source": "documents_latest"}])
    with pytest.raises(ReleaseError, match=r"rule 'not_contaminated': column 'contaminated'.*decontam stage"):
        release(wh, m)
    m = rs.manifest_yaml(
        tmp / "m.yaml", configs=[{"name": "documents", "source": "documents_latest", "require_decontam": False}]
    )
    assert release(wh, m).is_dir()


def test_invalid_predicate_is_a_clear_error(env):
    wh, tmp = env
    m = rs.manifest_yaml(
        tmp / "m.yaml", configs=[{"name": "documents", "rules": [{"name": "bad", "where": "edu_int >"}]}]
    )
    with pytest.raises(ReleaseError, match=r"rule 'bad': invalid SQL predicate"):
        release(wh, m)


def test_empty_selection_is_an_error(env):
    wh, tmp = env
    m = rs.manifest_yaml(
        tmp / "m.yaml", configs=[{"name": "documents", "rules": [{"name": "impossible", "where": "edu_int >= 99"}]}]
    )
    with pytest.raises(ReleaseError, match=r"selection is empty: all 15 rows.*impossible removed 10"):
        release(wh, m)
    assert not any((tmp / "releases" / "medtest").glob("*"))  # no staging left behind
    allowed = [{"name": "rare", "rules": [{"name": "impossible", "where": "edu_int >= 99"}], "allow_empty": True}]
    d = release(wh, rs.manifest_yaml(tmp / "m2.yaml", configs=[{"name": "documents"}, *allowed]))
    assert json.loads((d / "manifest.json").read_text())["configs"].keys() == {"documents"}


def test_optional_empty_source_is_skipped(env):
    wh, tmp = env
    m = rs.manifest_yaml(
        tmp / "m.yaml",
        configs=[
            {"name": "documents", "require_decontam": True},
            {
                "name": "dialogue",
                "source": "benchmark_items",
                "key": "item_id",
                "optional": True,
                "require_decontam": False,
            },
        ],
    )
    d = release(wh, m)
    assert json.loads((d / "manifest.json").read_text())["configs"].keys() == {"documents"}


def test_existing_version_is_refused_unless_forced(env):
    wh, tmp = env
    m = rs.manifest_yaml(tmp / "m.yaml")
    d = release(wh, m)
    before = (d / "manifest.json").read_text()
    with pytest.raises(ReleaseError, match=r"already exists.*--force"):
        release(wh, m)
    assert (d / "manifest.json").read_text() == before
    d2 = release(wh, m, force=True)
    assert d2 == d and (d / "manifest.json").read_text() != before and verify.verify(d) == []


def test_bad_version_and_unknown_key_are_manifest_errors(env):
    _, tmp = env
    with pytest.raises(ManifestError, match=r"version must look like X\.Y\.Z"):
        load_manifest(rs.manifest_yaml(tmp / "m.yaml", version="v1"))
    with pytest.raises(ManifestError, match=r"release\.shard_size: unknown key"):
        load_manifest(rs.manifest_yaml(tmp / "m.yaml", shard_size=3))


def test_hub_token_missing_fails_before_any_work(env, monkeypatch):
    wh, tmp = env
    monkeypatch.delenv("HF_TOKEN", raising=False)
    m = rs.manifest_yaml(tmp / "m.yaml", hf_repo="org/medtest")
    with pytest.raises(ReleaseError, match="needs a token in the HF_TOKEN environment variable"):
        release(wh, m, publish="hf")
    assert not (tmp / "releases").exists()


def test_hub_token_invalid(env, monkeypatch):
    wh, tmp = env
    monkeypatch.setenv("HF_TOKEN", "not-a-token")
    m = rs.manifest_yaml(tmp / "m.yaml", hf_repo="org/medtest")
    with pytest.raises(ReleaseError, match="not a valid Hugging Face token"):
        release(wh, m, publish="hf")


def test_hub_unreachable_is_a_clear_error_and_token_never_written(env, monkeypatch):
    """No network here: a well-formed token reaches HfApi.whoami, which fails offline; the error says so."""
    wh, tmp = env
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    m = rs.manifest_yaml(tmp / "m.yaml", hf_repo="org/medtest")
    with pytest.raises(ReleaseError, match="could not reach the Hugging Face Hub"):
        release(wh, m, publish="hf")
    for p in [*tmp.rglob("*")]:
        if p.is_file():
            assert TOKEN.encode() not in p.read_bytes(), p


def test_hub_dry_run_lists_operations(env, monkeypatch):
    wh, tmp = env
    monkeypatch.delenv("HF_TOKEN", raising=False)
    m = load_manifest(rs.manifest_yaml(tmp / "m.yaml", hf_repo="org/medtest"))
    from curation.release.builder import ReleaseRequest, build_release
    from curation.warehouse import start_run

    with start_run(wh, "release") as run:
        r = build_release(wh, m, ReleaseRequest("1.0.0", tmp / "releases", publish="hf", dry_run=True), run)
    write, *ops = r["operations"]
    assert write.startswith("write ") and write.endswith("1.0.0")  # a dry run lists the local write too
    assert ops[0].startswith("create_repo(repo_id='org/medtest', repo_type='dataset'")
    assert ops[1].startswith("upload_folder(") and ops[-1].endswith("tag='v1.0.0')")
    assert "  upload README.md" in ops and "  upload manifest.json" in ops


def test_tar_archive_holds_the_release(env):
    wh, tmp = env
    m = load_manifest(rs.manifest_yaml(tmp / "m.yaml"))
    from curation.release.builder import ReleaseRequest, build_release
    from curation.warehouse import start_run

    with start_run(wh, "release") as run:
        r = build_release(wh, m, ReleaseRequest("2.0.0", tmp / "releases", publish="tar"), run)
    with tarfile.open(r["archive"]) as tar:
        names = tar.getnames()
        man = json.load(tar.extractfile("medtest-2.0.0/manifest.json"))
    assert {f"medtest-2.0.0/{f['path']}" for f in man["files"]} <= set(names)


@dataclass
class StandInReport:
    success: bool
    results: list = field(default_factory=list)
    failing_rows: list = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps({"success": self.success, "results": self.results})


def _stand_in_validator(fail_on: str | None):
    """Counts the rows it is given and checks one real property, like a suite would."""
    seen = {}

    def validate_table(con, table, *, data=None, run_id=None, out_dir=None):
        cols = data.columns
        n = data.aggregate("count(*)").fetchall()[0][0]
        seen[table] = (cols, n)
        ok = table != fail_on
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "report.json").write_text(json.dumps({"table": table, "rows": n, "success": ok}))
        return StandInReport(
            ok, [{"expectation": "row_count", "success": True}, {"expectation": "key_unique", "success": ok}]
        )

    return validate_table, seen


def test_validation_hook_passes_summary_into_card(env, monkeypatch):
    wh, tmp = env
    fn, seen = _stand_in_validator(None)
    monkeypatch.setattr(validation, "_validator", lambda: fn)
    d = release(wh, rs.manifest_yaml(tmp / "m.yaml", validate=True))
    from curation.warehouse.schemas import load_schema

    assert seen["documents"] == (load_schema("documents").names, 7)  # the table's own columns, released rows
    assert seen["synthetic_rtest_qa"] == (load_schema("synthetic_rtest_qa").names, 4)
    man = json.loads((d / "manifest.json").read_text())
    assert man["validation"]["documents"] == {
        "table": "documents",
        "success": True,
        "expectations": 2,
        "failed": 0,
        "failing_rows": 0,
    }
    assert (d / "validation/documents/report.json").is_file()
    assert "| documents | documents | True | 2 | 0 |" in (d / "README.md").read_text()


def test_validation_failure_fails_the_release(env, monkeypatch):
    wh, tmp = env
    fn, _ = _stand_in_validator("synthetic_rtest_qa")
    monkeypatch.setattr(validation, "_validator", lambda: fn)
    with pytest.raises(ReleaseError, match="validation of synthetic_rtest_qa failed"):
        release(wh, rs.manifest_yaml(tmp / "m.yaml", validate=True))
    assert not (tmp / "releases/medtest/1.0.0").exists()
    assert (tmp / "releases/medtest/1.0.0.rejected/validation/grounded_qa/report.json").is_file()


def test_validation_unavailable_is_an_error_unless_disabled(env, monkeypatch):
    wh, tmp = env
    monkeypatch.setitem(sys.modules, "curation.validate", types.ModuleType("curation.validate"))
    with pytest.raises(ReleaseError, match=r"validate stage is unavailable.*release.validate: false"):
        release(wh, rs.manifest_yaml(tmp / "m.yaml", validate=True))
    assert release(wh, rs.manifest_yaml(tmp / "m.yaml", validate=False)).is_dir()
