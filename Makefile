# funnelsim: `make run` and `make test` do all the set-up on a fresh machine.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin

# The first Python >= 3.12 found: on PATH, then in pyenv's versions folder.
PYTHON ?= $(shell for c in python3.12 python3.13 python3 \
	$$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[2-9]*/bin/python3 2>/dev/null); do \
	$$c -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 && { echo $$c; break; }; done)

.PHONY: run test lint bench validate view clean

$(BIN)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: funnelsim needs Python >= 3.12 (python3.12 or python3.13 on PATH)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: $(BIN)/.installed
	$(BIN)/funnelsim run scenarios/product_launch.yaml

test: $(BIN)/.installed
	$(BIN)/pytest -q

lint: $(BIN)/.installed
	$(BIN)/ruff check .

bench: $(BIN)/.installed
	$(BIN)/pip install --quiet -e '.[dev,bench]'   # NDlib and cynetdiff, for the side-by-side runs
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b --record || exit 1; done
	@echo "== the ratio table (also in benchmarks/RESULTS.md)"; $(BIN)/python benchmarks/ratios.py

validate: $(BIN)/.installed
	$(BIN)/funnelsim validate-model --out docs/validation.md

view: $(BIN)/.installed
	$(BIN)/funnelsim view

clean:
	rm -rf $(VENV) results .pytest_cache
