"""The tests' preloaded job server (tests/job_server.py): a forwarded rule script behaves as its own process.

These start a cold server (nothing preloaded) and run a stand-in rule script the way Snakemake does, as
`python .snakemake/scripts/tmpXXXX.name.py`; the workflow tests run every rule script through a warm one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import job_server
import pytest

SCRIPT = """
import json, os, sys, time
mode = sys.argv[1] if len(sys.argv) > 1 else "report"
if mode == "sleep":
    print(os.getpid(), flush=True)
    time.sleep(60)
if mode == "raise":
    raise ValueError("the job's own error")
print(json.dumps({"pid": os.getpid(), "cwd": os.getcwd(), "argv": sys.argv, "extra": os.environ.get("EXTRA"),
                  "path0": sys.path[0], "main": __name__}))
print("to stderr", file=sys.stderr)
sys.exit(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("server")
    env, _ = job_server.start(folder, dict(os.environ), warm=False)
    return env, folder / "server.log"


@pytest.fixture
def rule_script(tmp_path) -> Path:
    path = tmp_path / "work/.snakemake/scripts/tmpab12cd.job.py"
    path.parent.mkdir(parents=True)
    path.write_text(SCRIPT, encoding="utf-8")
    return path


def start(script: Path, env: dict, *args: str, **extra_env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(script), *args],
        cwd=script.parents[2],
        env={**env, **extra_env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_rule_script_runs_in_a_fork_with_its_own_streams_directory_arguments_and_status(server, rule_script):
    env, log = server
    proc = start(rule_script, env, "report", "3")
    out, err = proc.communicate(timeout=60)
    seen = json.loads(out)
    assert proc.returncode == 3
    assert seen["pid"] != proc.pid  # it ran in the server's fork
    assert seen["cwd"] == str(rule_script.parents[2])
    assert seen["argv"] == [str(rule_script), "report", "3"]
    assert seen["path0"] == str(rule_script.parent)  # as `python script.py` sets it
    assert seen["main"] == "__main__"
    assert err == "to stderr\n"


def test_an_error_in_the_script_is_its_traceback_and_status_1(server, rule_script):
    proc = start(rule_script, server[0], "raise")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "ValueError: the job's own error" in err and "Traceback" in err


def test_a_job_whose_environment_differs_runs_in_its_own_process_and_the_server_says_why(server, rule_script):
    env, log = server
    proc = start(rule_script, env, EXTRA="set for this job only")
    out, _ = proc.communicate(timeout=60)
    seen = json.loads(out)
    assert proc.returncode == 0 and seen["pid"] == proc.pid and seen["extra"] == "set for this job only"
    assert f"declined {rule_script}: environment differs in ['EXTRA']" in log.read_text(encoding="utf-8")


def test_the_per_job_variables_do_not_decline(server, rule_script):
    proc = start(rule_script, server[0], OMP_NUM_THREADS="1", PYTEST_CURRENT_TEST="x")
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0 and json.loads(out)["pid"] != proc.pid


def test_other_scripts_and_a_missing_server_run_in_their_own_process(server, rule_script, tmp_path):
    elsewhere = tmp_path / "plain.py"
    elsewhere.write_text(SCRIPT, encoding="utf-8")
    for script, env in ((elsewhere, server[0]), (rule_script, {**server[0], job_server.SOCKET_ENV: "/nonexistent"})):
        proc = start(script, env)
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0 and json.loads(out)["pid"] == proc.pid


def test_a_signal_to_the_job_reaches_the_fork_and_the_status_says_so(server, rule_script):
    proc = start(rule_script, server[0], "sleep")
    fork = int(proc.stdout.readline())
    assert fork != proc.pid
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGTERM
    assert not _alive(fork)


def test_a_job_process_killed_outright_takes_its_fork_with_it(server, rule_script):
    proc = start(rule_script, server[0], "sleep")
    fork = int(proc.stdout.readline())
    proc.kill()
    proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while _alive(fork) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(fork)


def test_a_run_whose_environment_changed_gets_a_server_of_its_own():
    current: dict = {}  # not this worker's own server, which its workflow tests use
    base = {**os.environ, "PYTEST_CURRENT_TEST": "a"}
    first = job_server.environment(base, warm=False, current=current)
    again = {**base, "PYTEST_CURRENT_TEST": "b", "POLYINSTRUCT_X": "1"}
    assert job_server.environment(again, warm=False, current=current) == {
        **again,
        job_server.SOCKET_ENV: first[job_server.SOCKET_ENV],
        "PYTHONPATH": first["PYTHONPATH"],
    }
    old = current["proc"]
    changed = {**base, "JOB_SERVER_TEST_READ_AT_IMPORT": "changed"}
    second = job_server.environment(changed, warm=False, current=current)
    assert second[job_server.SOCKET_ENV] != first[job_server.SOCKET_ENV]
    assert old.poll() is not None and not Path(first[job_server.SOCKET_ENV]).exists()  # the old one stopped
    job_server.stop(current["proc"])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie until the server reaps it counts as gone
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "State:\tZ" not in status.read_text()


def test_the_package_reads_its_own_variables_when_it_runs_not_when_imported():
    """Why the server lets POLYINSTRUCT_* variables differ: no module-level statement of the package (code run
    at import, class bodies included) reads the environment."""
    import ast

    readers = []
    for path in sorted((job_server.REPO / "polyinstruct").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        pending = list(tree.body)
        while pending:
            node = pending.pop()
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue
            if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv"}:
                readers.append(f"{path.relative_to(job_server.REPO)}:{node.lineno}")
            pending.extend(ast.iter_child_nodes(node))
    assert readers == []
