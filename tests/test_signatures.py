"""Snakemake reads each rule function's signature once, not per job (workflow/signatures.py).

A real Snakemake dry run in a fresh process, with and without `pin_signatures`: the jobs' commands, formatted from
their inputs, params, threads and resources, are the same either way, and with it no signature is inspected once
planning starts.
"""

from __future__ import annotations

import json
import re

from conftest import REPO, snakemake_here

SNAKEFILE = """
import atexit
import inspect
import json
import os
from polyinstruct.workflow.signatures import pin_signatures

JOBS = 4


def source(wildcards):
    return f"a/{wildcards.i}.txt"


rule all:
    input:
        expand("b/{i}.txt", i=range(JOBS)),


rule b:
    input:
        source,
    output:
        "b/{i}.txt",
    params:
        label=lambda wildcards, input: f"{wildcards.i}:{input[0]}",
    threads: lambda wildcards: 1 + int(wildcards.i) % 2
    resources:
        runtime=lambda wildcards, attempt: 10 * attempt + int(wildcards.i),
        mem_mb=lambda wildcards, input, threads: 100 * threads + input.size_mb,
    shell:
        "echo label={params.label} threads={threads} runtime={resources.runtime} mem_mb={resources.mem_mb}"
        " disk_mb={resources.disk_mb} > {output}"

if os.environ.get("PIN_SIGNATURES") == "1":
    pin_signatures(workflow)

inspected = []
_signature = inspect.signature
inspect.signature = lambda obj, *args, **kwargs: inspected.append(repr(obj)) or _signature(obj, *args, **kwargs)


@atexit.register  # once every job is planned
def seen():
    with open("inspected.json", "w") as fh:
        json.dump(inspected, fh)
"""


#: a dry run that prints each job's command, with a profile-style size resource expression and threads set
DRY_RUN = (
    "-n",
    "-p",
    "--cores",
    "2",
    "all",
    "--default-resources",
    "disk_mb=2*input.size_mb+7",
    "--set-threads",
    "all=1",
)


def _plan(root, pin: bool) -> tuple[dict, list[str]]:
    """{job number: the values in its command} of a dry run, and the objects whose signature was inspected."""
    (root / "a").mkdir(parents=True)
    (root / "Snakefile").write_text(SNAKEFILE, encoding="utf-8")
    for i in range(4):  # the inputs, one 0 per job number
        (root / f"a/{i}.txt").write_text("0" * i)
    proc = snakemake_here(root, *DRY_RUN, PIN_SIGNATURES="1" if pin else "0")
    commands = re.findall(r"^Shell command: echo (label=.*) > b/(\d)\.txt$", proc.stdout + proc.stderr, re.MULTILINE)
    jobs = {int(i): dict(field.split("=") for field in values.split()) for values, i in commands}
    return jobs, json.loads((root / "inspected.json").read_text())


def test_pinned_signatures_give_every_job_the_same_values_and_are_not_inspected_again(tmp_path):
    unpinned, inspected_unpinned = _plan(tmp_path / "unpinned", pin=False)
    pinned, inspected_pinned = _plan(tmp_path / "pinned", pin=True)
    assert sorted(pinned) == [0, 1, 2, 3] and pinned == unpinned
    assert pinned[3] == {"label": "3:a/3.txt", "threads": "2", "runtime": "13", "mem_mb": "200", "disk_mb": "7"}
    assert pinned[2] == {"label": "2:a/2.txt", "threads": "1", "runtime": "12", "mem_mb": "100", "disk_mb": "7"}
    # without the pins Snakemake inspects input functions, params, threads and every resource per job
    assert len(inspected_unpinned) > 5 * 4
    assert any("Resource.evaluate" in name for name in inspected_unpinned)
    assert inspected_pinned == []


def test_the_workflow_pins_them():
    snakefile = (REPO / "Snakefile").read_text(encoding="utf-8")
    assert "\npin_signatures(workflow)\n" in snakefile
