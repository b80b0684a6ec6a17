"""Read the signature of every input and params function once, not once per job (planning cost, issue 20).

Snakemake inspects a function's signature (`inspect.signature`) each time it calls it for a job, twice
per call, to decide which of wildcards/input/output/threads/resources to pass: on the BayLing preset
(13,000 jobs, three or four functions each) that was the largest share of planning time that our rules,
rather than Snakemake's own bookkeeping, cause. `pin_signatures(workflow)` (called once by the Snakefile,
after the rules) records each function's parameters with Snakemake's own
`snakemake.common.overwrite_function_params`, which its `subpath`/`prepend_param` helpers use the same
way, so every later call reads them instead of inspecting the function again. What is passed, and so
what every function returns, is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable


def rule_functions(rule) -> list[Callable]:
    """The functions Snakemake calls per job for a rule's input, output, log and params."""
    found = []
    for items in (rule.input, rule.output, rule.log, rule.params):
        for item in items:
            func = _function(item)
            if func is not None:
                found.append(func)
    return found


def _function(item) -> Callable | None:
    # Snakemake's own unwrapping (rules.Rule.apply_input_function): flagged functions such as unpack(f)
    # are strings carrying `.callable`, IOFiles carry theirs on `_file`
    inner = getattr(getattr(item, "_file", None), "callable", None) or getattr(item, "callable", None)
    func = inner if inner is not None else item
    return func if callable(func) and not isinstance(func, type) else None


def pin_signatures(workflow) -> int:
    """Record the parameters of every rule function once; returns how many functions were pinned."""
    from snakemake.common import FUNC_OVERWRITE_PARAMS_ATTR, get_function_params, overwrite_function_params

    pinned = 0
    for rule in workflow.rules:
        for func in rule_functions(rule):
            if hasattr(func, FUNC_OVERWRITE_PARAMS_ATTR):
                continue
            try:
                overwrite_function_params(func, get_function_params(func))
            except AttributeError:  # bound methods and builtins take no attributes; Snakemake inspects those
                continue
            pinned += 1
    return pinned
