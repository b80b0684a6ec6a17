"""A pytest plugin that records each test's wall time and CPU time (its own and its reaped subprocesses').

On a shared machine wall times say little; CPU seconds add up to what a quiet 2-core machine needs, so the
suite's wall time there is at least (sum of CPU seconds) / 2, and at least the longest chain of tests
that one worker must run in order. Usage:

    PYTHONPATH=$PWD python -m pytest -p perf.suite_cpu tests ...        # writes perf/suite_cpu.json
    python perf/suite_cpu.py perf/suite_cpu.json                        # the summary
    python perf/suite_cpu.py --timeline perf/suite_cpu.PID.*.json       # who ran what when, per xdist worker

Setup and teardown (session fixtures: the tiny model, a workflow run, the Slurm cluster) are counted with
the test that triggered them. CPU spent by processes this one does not reap (Slurm jobs started by slurmd,
the llama.cpp judge server until the session ends, the rule scripts forked by the tests' job server) is not
counted.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

OUT = Path(os.environ.get("SUITE_CPU_OUT", Path(__file__).with_suffix(".json")))
_rows: dict[str, dict] = {}


def _cpu() -> tuple[float, float]:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def pytest_runtest_protocol(item, nextitem):
    item._suite_cpu = (time.monotonic(), *_cpu())
    item._suite_start = time.time()


def pytest_runtest_makereport(item, call):
    if call.when != "teardown" or not hasattr(item, "_suite_cpu"):
        return
    wall0, own0, child0 = item._suite_cpu
    own1, child1 = _cpu()
    markers = sorted({m.name for m in item.iter_markers()} & {"workflow", "slurm"})
    _rows[item.nodeid] = {
        "wall": round(time.monotonic() - wall0, 2),
        "cpu": round(own1 - own0, 2),
        "cpu_children": round(child1 - child0, 2),
        "markers": markers,
        "start": round(item._suite_start, 2),
        "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
    }


def pytest_sessionfinish(session, exitstatus):
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    # named by the controlling process as well: a test that runs pytest on xdist workers of its own
    # (tests/test_xdist_groups.py) must not overwrite the suite's files
    out = OUT.with_name(f"{OUT.stem}.{os.getppid()}.{worker}.json") if worker else OUT
    out.write_text(json.dumps(_rows, indent=1, sort_keys=True) + "\n")


def summarise(paths: list[str]) -> None:
    rows = {}
    for path in paths:
        rows.update(json.loads(Path(path).read_text()))
    total = lambda sel: sum(r["cpu"] + r["cpu_children"] for r in sel)  # noqa: E731
    quick = [r for r in rows.values() if not r["markers"]]
    print(
        f"{len(rows)} tests: CPU {total(rows.values()) / 60:.1f} min, of which not workflow/slurm "
        f"{total(quick) / 60:.1f} min; wall (as measured) {sum(r['wall'] for r in rows.values()) / 60:.1f} min"
    )
    print("slowest 15 by CPU seconds (own + children), wall seconds as measured:")
    for nodeid, r in sorted(rows.items(), key=lambda kv: -(kv[1]["cpu"] + kv[1]["cpu_children"]))[:15]:
        print(f"  {r['cpu'] + r['cpu_children']:7.1f} cpu {r['wall']:7.1f} wall  {nodeid}")


def timeline(paths: list[str], longer_than: float = 20.0) -> None:
    """Per worker, its tests in the order they ran: start (seconds after the first test) and wall seconds;
    tests under `longer_than` seconds are summed into the gaps."""
    rows = {}
    for path in paths:
        rows.update(json.loads(Path(path).read_text()))
    t0 = min(r["start"] for r in rows.values())
    for worker in sorted({r.get("worker", "main") for r in rows.values()}):
        mine = sorted((r["start"], r["wall"], nodeid) for nodeid, r in rows.items() if r.get("worker") == worker)
        end = max(start + wall for start, wall, _ in mine) - t0
        print(f"{worker}: {len(mine)} tests, last ends at {end:.0f} s")
        for start, wall, nodeid in mine:
            if wall >= longer_than:
                print(f"  {start - t0:6.0f} s  {wall:6.1f} s  {nodeid}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--timeline"]:
        timeline(sys.argv[2:])
    else:
        summarise(sys.argv[1:])
