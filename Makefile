# Parley — the commands CI and people run. `make run` and `make test` are the README's quick start.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt 2>/dev/null | sha1sum | cut -c1-12)
PYTEST_ARGS ?=

.PHONY: install system-deps run test lint typecheck audit unit functional browser contract models eval bench soak clean

install: $(STAMP) system-deps

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check -U pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

system-deps:
	@scripts/system-deps.sh

run: install
	$(BIN)/parley db upgrade
	$(BIN)/parley demo
	@echo "Parley runs at http://127.0.0.1:8000/ (Ctrl+C stops it)"
	$(BIN)/parley serve

test: install lint typecheck audit
	$(BIN)/pytest $(PYTEST_ARGS)

lint:
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts

typecheck:
	$(BIN)/mypy

# Known vulnerabilities in the pinned dependencies (docs/security.md): fails on one; warns, without
# failing, when the vulnerability service cannot be reached and nothing could be audited.
audit: install
	$(BIN)/python scripts/audit_gate.py constraints.txt

unit: install
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

functional: install
	$(BIN)/pytest tests/functional $(PYTEST_ARGS)

browser: install
	$(BIN)/pytest tests/browser $(PYTEST_ARGS)

contract: install
	$(BIN)/pytest tests/contract $(PYTEST_ARGS)

soak: install
	$(BIN)/pytest -m slow --run-slow $(PYTEST_ARGS)

bench: install
	$(BIN)/python benchmarks/run_all.py

# Classifiers (docs/models.md). The public data sets live outside the repo; the package never reads
# ../shared itself, only these developer targets point it there. `models` retrains the shipped
# GermEval 2018 offense artifact and builds the unlicensed-data models in var/models (never committed);
# `eval` prints every figure and records the shipped model's test figure next to it.
PARLEY_DATA_DIR ?= $(abspath ../shared/data)
MODEL_DIR ?= var/models
SHIPPED_MODELS := src/parley/classifiers/artifacts

models: install
	PARLEY_DATA_DIR=$(PARLEY_DATA_DIR) $(BIN)/parley model train --task offense --out $(SHIPPED_MODELS)
	for t in toxic fact_claim engaging; do \
	  PARLEY_DATA_DIR=$(PARLEY_DATA_DIR) $(BIN)/parley model train --task $$t --out $(MODEL_DIR) || exit 1; done

eval: install
	PARLEY_DATA_DIR=$(PARLEY_DATA_DIR) $(BIN)/parley model eval --task offense --model-dir $(SHIPPED_MODELS) --record --sanity tests/data
	for t in toxic fact_claim engaging; do \
	  PARLEY_DATA_DIR=$(PARLEY_DATA_DIR) $(BIN)/parley model eval --task $$t --model-dir $(MODEL_DIR) || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache test-artifacts
