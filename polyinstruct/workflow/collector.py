"""Python's cyclic garbage collector while Snakemake plans (planning cost, issue 20).

Planning builds millions of small objects (jobs, their file lists, wildcards, resources) that all live until
Snakemake exits, and almost none of them is garbage. CPython's collector at its default thresholds
(700, 10, 10) walks them anyway: on the BayLing 2 preset (12,226 jobs), 3,754 young and 10 full collections
took about 3 s of a 21 s dry run. Shutting the interpreter down took another 3 s after Snakemake had
printed everything, and 0.1 s once the plan was frozen.

`for_planning()`, called once by the Snakefile after the rules:
- raises the thresholds, so that a young collection comes every 50,000 allocations, not 700, and a full one
  rarely;
- freezes what parsing the workflow loaded (modules, config, rules), so that no collection walks it again;
- freezes everything again at exit (`atexit`), so that the collections Python runs while it shuts down skip
  the plan. Unreachable objects are still finalised at shutdown (CPython's last pass includes frozen ones),
  and Snakemake closes its own logs in its exit handlers, which run after this one.

`for_running()` (the Snakefile's `onstart:`, after the plan, before the first job) restores the thresholds
found before and unfreezes, so that the scheduler of a run collects as Python does by default. Processes that Snakemake
starts for one job (cluster jobs; they run without hooks) keep the planning settings while they plan that
one job; the rule's script runs in its own interpreter with Python's defaults. Nothing here changes what
Snakemake plans or runs, only how often the collector looks.
"""

from __future__ import annotations

import atexit
import gc

#: a young collection every 50,000 net allocations, a middle one every 20 young ones, a full one every 100
#: middle ones (and, as always, only once the long-lived objects have grown by a quarter)
PLANNING_THRESHOLDS = (50_000, 20, 100)

_defaults: tuple[int, int, int] | None = None


def for_planning() -> tuple[int, int, int]:
    """Collect rarely while Snakemake plans; returns the thresholds in force before."""
    global _defaults
    if _defaults is None:
        _defaults = gc.get_threshold()
        atexit.register(gc.freeze)
    gc.set_threshold(*PLANNING_THRESHOLDS)
    gc.freeze()
    return _defaults


def for_running() -> None:
    """Undo `for_planning` for the run that follows the plan: the thresholds found before, nothing frozen.
    (The freeze at exit stays registered.) Code that parses the workflow in its own process, such as the
    tests reading the rules through Snakemake's API, calls it too."""
    if _defaults is not None:
        gc.set_threshold(*_defaults)
    gc.unfreeze()
