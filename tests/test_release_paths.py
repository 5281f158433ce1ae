"""Release paths (issue 16 item 4): names that become paths are checked, cleanup deletes only what medcurate made,
a dry run writes nothing, and a failed release leaves no empty directory behind."""

from __future__ import annotations

import pytest

from curation.manifest import ManifestError, load_manifest
from curation.release import paths
from curation.release.builder import ReleaseRequest, build_release
from curation.release.errors import ReleaseError
from curation.warehouse import start_run
from tests import release_support as rs
from tests.test_release import release

pytest_plugins = ["tests.release_support"]  # the release_env / env fixtures


def build(wh, manifest_path, req: ReleaseRequest) -> dict:
    with start_run(wh, "release") as run:
        return build_release(wh, load_manifest(manifest_path), req, run)


@pytest.mark.parametrize("name", ["../../victim", "a/b", "..", ".hidden", "x" * 200])
@pytest.mark.hostile("release paths", ok="clear_error", bad="security")
def test_release_name_that_is_not_one_directory_is_refused(env, name):
    _, tmp = env
    with pytest.raises(ManifestError, match=r"release\.name .* cannot be used as a directory name"):
        load_manifest(rs.manifest_yaml(tmp / "m.yaml", name=name))


@pytest.mark.parametrize("version", ["../1.0.0", "1.0.0/..", "1.0.0-../x"])
@pytest.mark.hostile("release paths", ok="clear_error", bad="security")
def test_version_that_is_not_one_directory_is_refused(env, version):
    wh, tmp = env
    with pytest.raises(ReleaseError, match="version"):
        build(wh, rs.manifest_yaml(tmp / "m.yaml"), ReleaseRequest(version, tmp / "releases"))
    assert not (tmp / "releases").exists()


@pytest.mark.hostile("release paths", ok="handled", bad="security")
def test_sweep_removes_only_marked_staging_inside_the_release_root(env, tmp_path):
    wh, tmp = env
    name_dir = tmp / "releases" / "medtest"
    stale = paths.make_marked_dir(name_dir / ".tmp-0.9.0-dead")  # a crashed release's staging
    foreign = name_dir / ".tmp-not-ours"  # same prefix, no marker
    foreign.mkdir()
    outside = tmp_path / "victim" / ".spill-x"  # marked, but reached through a symlink out of the tree
    paths.make_marked_dir(outside)
    (name_dir / ".spill-link").symlink_to(outside)
    release(wh, rs.manifest_yaml(tmp / "m.yaml"))
    assert not stale.exists()
    assert foreign.is_dir() and (outside / paths.MARKER).is_file()
    with pytest.raises(ReleaseError, match="not inside the release directory"):
        paths.remove_tree(outside, tmp / "releases")


@pytest.mark.hostile("release paths", ok="clear_error", bad="security")
def test_force_refuses_to_replace_a_directory_that_is_not_a_release(env):
    wh, tmp = env
    target = tmp / "releases" / "medtest" / "1.0.0"
    target.mkdir(parents=True)
    (target / "notes.txt").write_text("mine")
    with pytest.raises(ReleaseError, match="not a medcurate release"):
        release(wh, rs.manifest_yaml(tmp / "m.yaml"), force=True)
    assert (target / "notes.txt").read_text() == "mine"


@pytest.mark.hostile("release paths", ok="clear_error", bad="corruption")
def test_hf_dry_run_without_repo_fails_before_writing(env, monkeypatch):
    wh, tmp = env
    monkeypatch.delenv("HF_TOKEN", raising=False)
    req = ReleaseRequest("1.0.0", tmp / "releases", publish="hf", dry_run=True)
    with pytest.raises(ReleaseError, match=r"release\.hf_repo \(owner/name\) is required"):
        build(wh, rs.manifest_yaml(tmp / "m.yaml"), req)
    with pytest.raises(ReleaseError, match=r"owner/name, got 'org/\.\./x'"):
        build(wh, rs.manifest_yaml(tmp / "m.yaml", hf_repo="org/../x"), req)
    assert not (tmp / "releases").exists()


@pytest.mark.hostile("release paths", ok="handled", bad="corruption")
def test_dry_run_validates_everything_and_writes_nothing(env, monkeypatch):
    wh, tmp = env
    monkeypatch.delenv("HF_TOKEN", raising=False)
    m = rs.manifest_yaml(tmp / "m.yaml", hf_repo="org/medtest")
    r = build(wh, m, ReleaseRequest("1.0.0", tmp / "releases", publish="hf", dry_run=True))
    assert r["dry_run"] and r["rows"] == 11 and "  upload README.md" in r["operations"]
    assert not any(".medcurate" in op for op in r["operations"])
    assert not (tmp / "releases").exists()
    bad = rs.manifest_yaml(tmp / "m.yaml", configs=[{"name": "documents", "rules": [{"name": "x", "where": "nope"}]}])
    with pytest.raises(ReleaseError, match="rule 'x'"):
        build(wh, bad, ReleaseRequest("1.0.0", tmp / "releases", dry_run=True))
    assert not (tmp / "releases").exists()


@pytest.mark.hostile("release paths", ok="handled", bad="corruption")
def test_failed_release_leaves_no_empty_directories(env):
    wh, tmp = env
    m = rs.manifest_yaml(
        tmp / "m.yaml", configs=[{"name": "documents", "rules": [{"name": "none", "where": "edu_int >= 99"}]}]
    )
    with pytest.raises(ReleaseError, match="selection is empty"):
        release(wh, m)
    assert not (tmp / "releases").exists()
    (tmp / "releases").mkdir()  # a directory the user made is kept
    with pytest.raises(ReleaseError, match="selection is empty"):
        release(wh, m)
    assert (tmp / "releases").is_dir() and not any((tmp / "releases").iterdir())
