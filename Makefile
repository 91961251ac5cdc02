# The two commands of the README: `make demo` and `make test`. Each makes its own
# virtualenv in .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck unit bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.demo-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[sql]'
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@ $(VENV)/.demo-installed

demo: $(VENV)/.demo-installed
	$(BIN)/calltrack demo

test: unit typecheck lint

unit: $(VENV)/.dev-installed
	$(BIN)/python -m pytest

typecheck: $(VENV)/.dev-installed
	$(BIN)/python -m mypy

lint: $(VENV)/.dev-installed
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .

bench: $(VENV)/.dev-installed
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
