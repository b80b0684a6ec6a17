# Two entry points (see README): `make run` and `make test`. Both create the virtual environment
# first if it is missing; the venv stamp tracks the lock files, so editing them reinstalls.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint dry-run report clean

$(VENV)/.installed: requirements.txt requirements-assets.txt requirements-deepspeed.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -r requirements-deepspeed.txt
	$(BIN)/pip install --quiet --no-deps -r requirements-assets.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

run: $(VENV)/.installed  ## the embedded default experiment, on every core
	$(BIN)/snakemake --cores all
	$(BIN)/snakemake --report results/report/report.html

test: $(VENV)/.installed  ## the whole test suite
	$(BIN)/python -m pytest -q tests

lint: $(VENV)/.installed
	$(BIN)/snakemake --lint

dry-run: $(VENV)/.installed
	$(BIN)/snakemake -n

clean:
	rm -rf results logs benchmarks/*/ .snakemake
