"""The quiet console of a build that loads vLLM: only medcurate's lines on the terminal; what vLLM's engine process,
torch and the libraries print goes to the run's log file (curation/commands/console.py, curation/native_output.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.synth_helpers import PLUMBING_GATE

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "manifests" / "demo.yaml"
# what the libraries and vLLM's engine process print when nobody routes it (seen on `make demo` before the fix)
NOISE = ("WARNING", "Warning", "Triton", "safetensors", "warnings.warn", "LD_PRELOAD", "NUMA", "Model Runner")


def _manifest(tmp: Path, model: Path) -> Path:
    demo = yaml.safe_load(DEMO.read_text())
    pubmed = next(s for s in demo["sources"] if s["name"] == "pubmed")
    spec = {
        "name": "quiet",
        "stages": ["ingest", "synth"],
        "sources": [{**pubmed, "paths": [str((DEMO.parent / p).resolve()) for p in pubmed["paths"]]}],
        "synth": {
            "model": str(model),
            "tasks": ["grounded_qa"],
            "sampling": {"temperature": 1.0, "max_tokens": 60, "seed": 3},
            "passages": {"max_tokens": 80, "min_tokens": 5, "limit_docs": 2, "tokenizer": str(model)},
            "grounded_qa": {"pairs_per_passage": 1, "limit": 2, "gate": PLUMBING_GATE},
        },
    }
    path = tmp / "quiet.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


@pytest.mark.slow
def test_a_build_that_loads_vllm_prints_only_medcurate_lines_and_logs_the_rest(tmp_path, tiny_model):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MEDCURATE_PROGRESS": "0"}
    env.pop("PREFECT_API_URL", None)
    wh = tmp_path / "wh"
    r = subprocess.run(
        [sys.executable, "-m", "curation.cli", "-w", str(wh), "build", str(_manifest(tmp_path, tiny_model))],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    console = r.stdout + r.stderr
    assert r.returncode == 0, console[-3000:]
    assert "synth run " in console and "built " in console
    noisy = [line for line in console.splitlines() if any(n in line for n in NOISE)]
    assert not noisy, "\n".join(noisy)
    assert "\n\n\n" not in console  # the tokenizer trainer's progress bar wrote blank lines to a non-terminal
    # what the console did not show is in the synth run's log: the engine process's own output included
    (log_file,) = (wh / "logs").glob("*-synth-*.log")
    log_text = log_file.read_text()
    assert "Loading safetensors checkpoint shards" in log_text
    assert "synth run " in log_text
