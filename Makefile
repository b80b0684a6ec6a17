# Two entry points (see README): `make run` and `make test`. Both create the virtual environment
# first if it is missing; the venv stamp tracks the lock files, so editing them reinstalls.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

LLAMA_CPP := llama-cpp-python==0.3.36
WHEELS := wheels

.PHONY: run test test-quick test-packages lint dry-run report clean slurm-packages slurm-profile browser-package \
	browse-screenshot judge-plan plan gpu-wheels gpu-check-dry-run

# The lock is installed with --no-deps: it is complete, and snakemake-executor-plugin-slurm declares
# numpy>=2.4.5, which unbabel-comet's numpy<2 forbids (the plugin uses numpy only for np.inf).
# llama-cpp-python (the local OpenAI-compatible judge server of the tests) builds from source in about
# 5 minutes; its wheel is built once into wheels/ and every later venv installs from there.
$(VENV)/.installed: requirements.txt requirements-assets.txt requirements-deepspeed.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	ls $(WHEELS)/llama_cpp_python-0.3.36-*.whl >/dev/null 2>&1 || \
		$(BIN)/pip wheel --quiet --no-deps --wheel-dir $(WHEELS) "$(LLAMA_CPP)"
	$(BIN)/pip install --quiet --no-deps --find-links $(WHEELS) -r requirements.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -r requirements-deepspeed.txt
	$(BIN)/pip install --quiet --no-deps -r requirements-assets.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# the answer browser's screenshot (results/report/browse/screenshot.png; docs/browse.png is one): French prompts,
# wrong-language answers of the base, English-only and multilingual runs (runs 0, 1, 2 of config.yaml's grid)
BROWSE_VIEW := l=fr&r=0,1,2&w=1

run: $(VENV)/.installed  ## the embedded default experiment, on every core
	$(BIN)/snakemake --cores all
	$(BIN)/snakemake --report results/report/report.html
	$(BIN)/python -m polyinstruct.report.chromium screenshot --fragment "$(BROWSE_VIEW)" --if-available

# The suite runs on TEST_WORKERS pytest-xdist workers: --dist loadgroup keeps the tests of one expensive shared
# fixture on one worker (tests/conftest.py: the Slurm test cluster, the judge server, the finished tiny run, ...),
# and conftest hands out the longest work units first (--no-loadscope-reorder keeps its order). The Slurm tests
# mostly wait on their cluster, so the other workers compute meanwhile. pytest is pinned to 9.1.1: with 9.2 the
# grouping silently stops (tests/test_xdist_groups.py). --durations lists the slowest tests.
TEST_WORKERS ?= 3
PYTEST := $(BIN)/python -m pytest -q -rs --durations=15

test: $(VENV)/.installed test-packages browser-package  ## lint, then the whole test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(PYTEST) -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder tests

test-quick: $(VENV)/.installed  ## the edit loop: lint and every test but the workflow and Slurm ones
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(PYTEST) -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder -m "not workflow and not slurm" tests

# Debian packages of the tests (tests/system_packages.py): Slurm's slurm-wlm, munge, slurmdbd and mariadb-server
# for the Slurm test cluster (tests/slurm_cluster.py) and the Hunspell dictionaries of the spelling tests,
# installed when missing if we are root with apt-get; otherwise the tests that need them skip and say why.
test-packages: $(VENV)/.installed
	$(BIN)/python tests/system_packages.py install

slurm-packages: test-packages

# `snakemake --profile slurm`: installs profiles/slurm/config.yaml as the user profile `slurm`
# ($$XDG_CONFIG_HOME/snakemake/slurm/, by default ~/.config/snakemake/slurm/); edit its SITE lines there.
# An installed copy that differs (your edits) is kept unless FORCE=1. Needs no venv.
FORCE ?=
slurm-profile:  ## install the Slurm profile once, so that `snakemake --profile slurm` works
	$(PYTHON) -m polyinstruct.cluster.profile install $(if $(FORCE),--force)

# Debian's chromium for the answer browser's tests (tests/test_browse.py) and its screenshot, installed when
# missing if we are root with apt-get; otherwise those tests skip and say why.
browser-package: $(VENV)/.installed
	$(BIN)/python -m polyinstruct.report.chromium install

browse-screenshot: $(VENV)/.installed browser-package  ## the answer browser's screenshot (after make run)
	$(BIN)/python -m polyinstruct.report.chromium screenshot --fragment "$(BROWSE_VIEW)"

lint: $(VENV)/.installed  ## ruff (pyproject.toml) and Snakemake's linter
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakemake --lint

dry-run: $(VENV)/.installed
	$(BIN)/snakemake -n

CONFIG ?=
plan: $(VENV)/.installed  ## jobs, GPU-hours and judge cost of a config before running it (CONFIG=configs/x.yaml)
	$(BIN)/python -m polyinstruct.workflow.planning $(if $(CONFIG),--configfile $(CONFIG))

judge-plan: $(VENV)/.installed  ## how many judge calls the config would make now (runs generation first)
	$(BIN)/snakemake judge_plan --cores all --forcerun judge_plan

# Wheels for the one-call GPU check (perf/gpu_check.sh): what a bare GPU machine (Python 3.12, its own torch and
# transformers 5) lacks, for CPython 3.12 / manylinux x86_64, into wheels-gpu/ (git-ignored); fails unless the
# wheels and the working tree fit the 64 MiB that travels. The venv is created when missing but not reinstalled
# for this (DeepSpeed's sdist is built against its torch).
gpu-wheels:  ## wheels-gpu/ for perf/gpu_check.sh on a GPU machine
	test -x $(BIN)/python || $(MAKE) $(VENV)/.installed
	$(BIN)/python perf/gpu_wheels.py

gpu-check-dry-run:  ## the GPU check on this CPU at tiny sizes (what tests/test_gpu_check.py runs)
	test -x $(BIN)/python || $(MAKE) $(VENV)/.installed
	PYTHON=$(BIN)/python bash perf/gpu_check.sh results/gpu-check-dry-run --dry-run

clean:
	rm -rf results logs .snakemake
