# Two commands for a newcomer: `make demo` and `make test`. Both bootstrap .venv on first use,
# with the newest Python >= 3.12 that runs here (tools/find-python; `make test PYTHON=python3.12`
# picks one).
PYTHON ?=
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: venv venv-bench demo test lint typecheck format bench bench-fit bench-workflow clean

venv:
	@PYTHON='$(PYTHON)' sh tools/venv $(VENV) test

# Bambi in an environment of its own (its formulae<0.7 excludes hiermod's formulae>=0.9):
# benchmarks/interpreters.py runs Bambi's workers with it.
venv-bench:
	@PYTHON='$(PYTHON)' sh tools/venv $(VENV) test,bench
	@PYTHON='$(PYTHON)' sh tools/venv benchmarks/.venv-bambi benchmarks/bambi-requirements.txt

demo: venv
	$(BIN)/hiermod demo

test: venv lint typecheck
	$(BIN)/python -m pytest -n 2 --dist worksteal --durations=25

lint: venv
	$(BIN)/ruff check hiermod tests benchmarks tools
	$(BIN)/ruff format --check hiermod tests benchmarks tools

typecheck: venv
	$(BIN)/mypy

format: venv
	$(BIN)/ruff format hiermod tests benchmarks tools
	$(BIN)/ruff check --fix hiermod tests benchmarks tools

bench: venv-bench
	$(BIN)/python benchmarks/peers.py

bench-fit: venv-bench
	$(BIN)/python benchmarks/big_fit.py --compare-draws 500

bench-workflow: venv-bench
	$(BIN)/python benchmarks/workflow.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
