# Two entry points (see README): `make run` and `make test`. Both create the virtual environment
# first if it is missing; the venv stamp tracks the lock files, so editing them reinstalls.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint dry-run report clean slurm-packages

# The lock is installed with --no-deps: it is complete, and snakemake-executor-plugin-slurm declares
# numpy>=2.4.5, which unbabel-comet's numpy<2 forbids (the plugin uses numpy only for np.inf).
$(VENV)/.installed: requirements.txt requirements-assets.txt requirements-deepspeed.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --no-deps -r requirements.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -r requirements-deepspeed.txt
	$(BIN)/pip install --quiet --no-deps -r requirements-assets.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

run: $(VENV)/.installed  ## the embedded default experiment, on every core
	$(BIN)/snakemake --cores all
	$(BIN)/snakemake --report results/report/report.html

test: $(VENV)/.installed slurm-packages  ## the whole test suite
	$(BIN)/python -m pytest -q -rs tests

# Debian's slurm-wlm, munge, slurmdbd and mariadb-server for the Slurm test cluster (tests/slurm_cluster.py),
# installed when missing if we are root with apt-get; otherwise the Slurm tests skip and say why.
slurm-packages: $(VENV)/.installed
	$(BIN)/python tests/slurm_cluster.py install

lint: $(VENV)/.installed
	$(BIN)/snakemake --lint

dry-run: $(VENV)/.installed
	$(BIN)/snakemake -n

clean:
	rm -rf results logs benchmarks/*/ .snakemake
