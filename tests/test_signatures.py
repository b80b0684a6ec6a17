"""Snakemake reads each rule function's signature once, not per job (workflow/signatures.py).

A real Snakemake run in a fresh process, with and without `pin_signatures`: the jobs get the same inputs, params,
threads and resources either way, and with it no signature is inspected once planning starts.
"""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import PACKAGE_ENV, REPO

SNAKEFILE = """
import atexit
import inspect
import json
import os
from polyinstruct.workflow.signatures import pin_signatures

JOBS = 6


def source(wildcards):
    return f"a/{wildcards.i}.txt"


rule all:
    input:
        expand("b/{i}.json", i=range(JOBS)),


rule a:
    output:
        "a/{i}.txt",
    shell:
        "printf '%0{wildcards.i}d' 0 > {output}"


rule b:
    input:
        source,
    output:
        "b/{i}.json",
    params:
        label=lambda wildcards, input: f"{wildcards.i}:{input[0]}",
    threads: lambda wildcards: 1 + int(wildcards.i) % 2
    resources:
        runtime=lambda wildcards, attempt: 10 * attempt + int(wildcards.i),
        mem_mb=lambda wildcards, input, threads: 100 * threads + input.size_mb,
    run:
        with open(output[0], "w") as fh:
            json.dump({"params": dict(params), "threads": threads,
                       "resources": {k: v for k, v in resources.items() if k not in ("tmpdir",)}}, fh)


if os.environ.get("PIN_SIGNATURES") == "1":
    pin_signatures(workflow)

inspected = []
_signature = inspect.signature
inspect.signature = lambda obj, *args, **kwargs: inspected.append(repr(obj)) or _signature(obj, *args, **kwargs)


@atexit.register  # once every job has run
def seen():
    with open("inspected.json", "w") as fh:
        json.dump(inspected, fh)
"""


def _run(root, pin: bool) -> tuple[dict, list[str]]:
    root.mkdir()
    (root / "Snakefile").write_text(SNAKEFILE, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", "--quiet", "all"]
        + ["--default-resources", "disk_mb=2*input.size_mb+7", "--set-threads", "a=1"],
        cwd=root,
        env={**PACKAGE_ENV, "PIN_SIGNATURES": "1" if pin else "0"},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    jobs = {path.name: json.loads(path.read_text()) for path in sorted((root / "b").glob("*.json"))}
    return jobs, json.loads((root / "inspected.json").read_text())


def test_pinned_signatures_give_every_job_the_same_values_and_are_not_inspected_again(tmp_path):
    unpinned, inspected_unpinned = _run(tmp_path / "unpinned", pin=False)
    pinned, inspected_pinned = _run(tmp_path / "pinned", pin=True)
    assert len(pinned) == 6 and pinned == unpinned
    job = pinned["3.json"]
    assert job["params"] == {"label": "3:a/3.txt"} and job["threads"] == 2
    assert job["resources"]["runtime"] == 13 and job["resources"]["mem_mb"] == 200
    assert job["resources"]["disk_mb"] == 7  # the profile-style expression, through Snakemake's own closure
    # without the pins Snakemake inspects input functions, params, threads and every resource per job
    assert len(inspected_unpinned) > 5 * 6
    assert any("Resource.evaluate" in name for name in inspected_unpinned)
    assert inspected_pinned == []


def test_the_workflow_pins_them():
    snakefile = (REPO / "Snakefile").read_text(encoding="utf-8")
    assert "\npin_signatures(workflow)\n" in snakefile
