# Two entry points (see README): `make run` and `make test`. Both create the virtual environment
# first if it is missing; the venv stamp tracks the lock files, so editing them reinstalls.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

LLAMA_CPP := llama-cpp-python==0.3.36
WHEELS := wheels

.PHONY: run test test-quick test-packages lint dry-run report clean slurm-packages slurm-profile judge-plan plan

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

run: $(VENV)/.installed  ## the embedded default experiment, on every core
	$(BIN)/snakemake --cores all
	$(BIN)/snakemake --report results/report/report.html

# The suite runs on TEST_WORKERS pytest-xdist workers: some tests wait rather than compute (the Slurm tests
# on the executor's status checks, others on subprocesses), so two cores keep more than two workers busy.
# --dist loadgroup keeps the tests of one expensive shared fixture on one worker (tests/conftest.py: the Slurm
# test cluster, the judge server, the finished tiny run, ...), and conftest hands out the longest work units
# first (--no-loadscope-reorder keeps its order). --durations lists the slowest tests.
TEST_WORKERS ?= 4
PYTEST := $(BIN)/python -m pytest -q -rs -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder --durations=15

test: $(VENV)/.installed test-packages  ## lint, then the whole test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(PYTEST) tests

test-quick: $(VENV)/.installed  ## the edit loop: lint and every test but the workflow and Slurm ones
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(PYTEST) -m "not workflow and not slurm" tests

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

clean:
	rm -rf results logs .snakemake
