"""`make test` relies on pytest-xdist's loadgroup scheduler keeping every test of an expensive shared fixture on one
worker (tests/conftest.py: SHARED_FIXTURES). If grouping silently stops working, nothing fails: each worker builds
its own copy of the fixture (a whole workflow run) and the suite just gets slower. That happened with pytest 9.2.0,
whose structured node ids ignore the `@group` suffix xdist writes (pytest-dev/pytest-xdist#1386); the lock pins
9.1.1. This runs our conftest's grouping hook on two workers over a small generated suite and checks where each
test ran, and that the long units are handed out first (the hook must order the workers' collections: xdist's
scheduler takes its order from them, and on a worker `-n` is not set)."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import REPO

CONFTEST = f"""
import importlib.util, sys
import pytest

spec = importlib.util.spec_from_file_location("suite_conftest", {str(REPO / "tests/conftest.py")!r})
suite = importlib.util.module_from_spec(spec)
spec.loader.exec_module(suite)
pytest_collection_modifyitems = suite.pytest_collection_modifyitems


@pytest.fixture(scope="session")
def finished_tiny_run():
    return "built once per worker"


@pytest.fixture(scope="session")
def bayling_run():
    return "built once per worker"
"""

TESTS = """
import json, os, time

def record(name):
    with open({out!r}, "a") as fh:
        fh.write(json.dumps([name, os.environ["PYTEST_XDIST_WORKER"]]) + "\\n")
    time.sleep(0.3)

{tests}
"""


def test_tests_of_one_shared_fixture_run_on_one_worker_and_the_long_units_first(tmp_path):
    out = tmp_path / "where.jsonl"
    tests = "".join(f"def test_alone_{i}():\n    record('alone')\n\n" for i in range(6)) + "".join(
        f"def test_{fixture}_{i}({fixture}):\n    record('{fixture}')\n\n"
        for fixture in ("bayling_run", "finished_tiny_run")
        for i in range(4)
    )
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (suite / "test_generated.py").write_text(TESTS.format(out=str(out), tests=tests), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "2", "--dist", "loadgroup", "--no-loadscope-reorder"]
        + ["-p", "no:cacheprovider", str(suite)],
        capture_output=True,
        text=True,
        cwd=suite,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    workers: dict[str, set[str]] = {}
    first: dict[str, str] = {}
    for line in out.read_text().splitlines():
        name, worker = json.loads(line)
        workers.setdefault(name, set()).add(worker)
        first.setdefault(worker, name)
    # both groups are LONG_FIRST units: each worker starts with one, though the file has them last
    assert sorted(first.values()) == ["bayling_run", "finished_tiny_run"], first
    assert len(workers["finished_tiny_run"]) == 1 and len(workers["bayling_run"]) == 1, workers
    assert workers["alone"] == {"gw0", "gw1"}  # the ungrouped tests are spread over both
