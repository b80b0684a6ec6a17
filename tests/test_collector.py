"""The garbage collector's settings while Snakemake plans, and once jobs run (workflow/collector.py).

Each check runs in its own Python process, so the test process keeps Python's defaults.
"""

from __future__ import annotations

import json

from conftest import REPO, python_json, snakemake_here

from polyinstruct.workflow import collector


def test_planning_collects_rarely_and_running_restores_the_defaults():
    seen = python_json(
        """
        import gc, json
        from polyinstruct.workflow import collector
        before = gc.get_threshold()
        returned = collector.for_planning()
        planning, frozen = gc.get_threshold(), gc.get_freeze_count()
        collector.for_planning()  # a second call keeps the thresholds found first
        collector.for_running()
        print(json.dumps({"before": before, "returned": returned, "planning": planning, "frozen": frozen,
                          "running": gc.get_threshold(), "frozen_running": gc.get_freeze_count()}))
        """
    )
    assert seen["planning"] == list(collector.PLANNING_THRESHOLDS)
    assert seen["returned"] == seen["before"] == seen["running"]
    assert seen["frozen"] > 1_000  # the modules loaded so far are not walked again
    assert seen["frozen_running"] == 0


def test_what_is_made_after_planning_is_frozen_at_exit():
    # an exit handler registered first runs last (atexit is last-in, first-out): it sees the collector's
    seen = python_json(
        """
        import atexit, gc, json
        atexit.register(lambda: print(json.dumps({"at_exit": gc.get_freeze_count(), "planned": planned})))
        from polyinstruct.workflow import collector
        collector.for_planning()
        planned = gc.get_freeze_count()
        plan = [[i, str(i)] for i in range(100_000)]  # what Snakemake builds while it plans
        """
    )
    assert seen["at_exit"] > seen["planned"] + 99_000  # the 100,000 lists (strings are never tracked)


SNAKEFILE = """
import gc, json
from polyinstruct.workflow import collector

SEEN = {}


def planned(wildcards):
    SEEN["planning"] = gc.get_threshold()
    return "a.txt"


rule all:
    input:
        planned,


rule a:
    output:
        "a.txt",
    shell:
        "touch {output}"


collector.for_planning()


onstart:
    collector.for_running()
    SEEN["running"] = gc.get_threshold()
    SEEN["frozen"] = gc.get_freeze_count()
    with open("seen.json", "w") as fh:
        json.dump(SEEN, fh)
"""


def test_snakemake_plans_with_the_planning_settings_and_runs_with_the_defaults(tmp_path):
    (tmp_path / "Snakefile").write_text(SNAKEFILE, encoding="utf-8")
    snakemake_here(tmp_path, "--cores", "1", "--quiet", "all")
    assert (tmp_path / "a.txt").exists()
    seen = json.loads((tmp_path / "seen.json").read_text())
    assert seen == {"planning": list(collector.PLANNING_THRESHOLDS), "running": [700, 10, 10], "frozen": 0}


def test_the_workflow_uses_it():
    snakefile = (REPO / "Snakefile").read_text(encoding="utf-8")
    assert "\ncollector.for_planning()\n" in snakefile
    assert "\nonstart:\n    collector.for_running()\n" in snakefile
