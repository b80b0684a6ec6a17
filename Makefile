# Two entry points (see README): `make run` and `make test`. Both create the virtual environment
# first if it is missing; the venv stamp tracks the lock files, so editing them reinstalls.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

LLAMA_CPP := llama-cpp-python==0.3.36
WHEELS := wheels

.PHONY: run test lint dry-run report clean slurm-packages browser-package browse-screenshot judge-plan plan

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
# wrong-language answers of the base, English-only and multilingual runs (runs 0, 1, 4 of config.yaml's grid)
BROWSE_VIEW := l=fr&r=0,1,4&w=1

run: $(VENV)/.installed  ## the embedded default experiment, on every core
	$(BIN)/snakemake --cores all
	$(BIN)/snakemake --report results/report/report.html
	$(BIN)/python -m polyinstruct.report.chromium screenshot --fragment "$(BROWSE_VIEW)" --if-available

test: $(VENV)/.installed slurm-packages browser-package  ## lint, then the whole test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q -rs tests

# Debian's slurm-wlm, munge, slurmdbd and mariadb-server for the Slurm test cluster (tests/slurm_cluster.py),
# installed when missing if we are root with apt-get; otherwise the Slurm tests skip and say why.
slurm-packages: $(VENV)/.installed
	$(BIN)/python tests/slurm_cluster.py install

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

clean:
	rm -rf results logs .snakemake
