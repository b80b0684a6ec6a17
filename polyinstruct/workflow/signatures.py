"""Read the signature of every input and params function once, not once per job (planning cost, issue 20).

Snakemake inspects a function's signature (`inspect.signature`) each time it calls it for a job, twice
per call, to decide which of wildcards/input/output/threads/resources to pass: on the BayLing preset
(13,000 jobs, three or four functions each) that was the largest share of planning time that our rules,
rather than Snakemake's own bookkeeping, cause. `pin_signatures(workflow)` (called once by the Snakefile,
after the rules) records each function's parameters with Snakemake's own
`snakemake.common.overwrite_function_params`, which its `subpath`/`prepend_param` helpers use the same
way, so every later call reads them instead of inspecting the function again. What is passed, and so
what every function returns, is unchanged.

Resources are evaluated the same way, per job and per resource: Snakemake calls each resource's
`Resource.evaluate` (a new bound method every time, so nothing can be recorded on it) through the same
signature check, and `evaluate` checks the signature of the resource's own function (a lambda of ours, or
the closure Snakemake builds for a profile's `default-resources`/`set-threads` expression). On the BayLing 2
preset that was 61,000 more inspections (12,226 jobs). So the parameters of each rule's resource functions
are recorded too, and those of `Resource.evaluate` once on the function itself: a bound method reads its
attributes from its function, and every bound `evaluate` has the same parameters (`*args, **kwargs`).
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


def resource_functions(rule) -> list[Callable]:
    """The functions behind a rule's resources (its own lambdas, the profile's expressions), called per job.

    A size resource (`mem_mb`, `disk_mb`) holds Snakemake's wrapper around another resource, whose function
    is checked again on each call; `functools.wraps` names it in `__wrapped__`, so the chain is followed."""
    found = []
    for resource in (getattr(rule, "resources", None) or {}).values():
        func = getattr(resource, "_evaluator", None)
        while callable(func) and func not in found:
            found.append(func)
            func = getattr(func, "__wrapped__", None)
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
    from snakemake.resources import Resource

    def pin(func: Callable, params_of: Callable) -> int:
        if hasattr(func, FUNC_OVERWRITE_PARAMS_ATTR):
            return 0
        try:
            overwrite_function_params(func, get_function_params(params_of))
        except AttributeError:  # bound methods and builtins take no attributes; Snakemake inspects those
            return 0
        return 1

    evaluate = Resource("_pinned", lambda: 1).evaluate  # its parameters are those of every bound `evaluate`
    pinned = pin(evaluate.__func__, evaluate)
    for rule in workflow.rules:
        for func in rule_functions(rule) + resource_functions(rule):
            pinned += pin(func, func)
    return pinned
