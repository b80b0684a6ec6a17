"""One judging job from config: which backend answers, wrapped in the cache and ledger, asked by which protocol.

`settings` is what `rule_inputs.judge_settings` hands a job: the backend (`local` or `openai`),
the protocol's own block, the template directory, the shared cache directory and the prices.
A backend is built lazily, so a job whose prompts are all cached loads no model and opens no
connection. `plan` counts the calls a set of jobs would make without making any (the dry run).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from polyinstruct.io import InputError
from polyinstruct.judge import criteria, pairwise, relevance, single
from polyinstruct.judge.backend import CachedJudge
from polyinstruct.judge.cache import JudgeCache, cache_key
from polyinstruct.judge.ledger import CostLedger
from polyinstruct.judge.templates import TemplateSet

JUDGE_PROTOCOLS = ("chen_single", "mt_bench_single", "mt_bench_pairwise", "criteria")
SINGLE_PROTOCOLS = ("chen_single", "mt_bench_single", "criteria", "relevance")  # one response at a time
PAIRWISE = "mt_bench_pairwise"
LEDGER = "ledger.jsonl"


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:8]


def judge_identity(settings: dict, pointer: dict | None = None) -> str:
    """The judge's name in rows, cache keys and the ledger: model plus a digest of what shapes its answers.

    Changing the judge model, its decoding settings or (local) the forced answer prefix gives a new
    identity and so new cache entries; moving the same API model to another host does not.
    """
    if settings["backend"] == "openai":
        o = settings["openai"]
        return f"{o['model']}@{_digest([o['temperature'], o['max_tokens']])}"
    local = settings["local"]
    source = (pointer or {}).get("source")
    return f"{settings['model']}@{_digest([source, local['max_new_tokens'], local['response_prefix'], settings['engine']])}"


class LazyBackend:
    """A backend built on first use (a cached re-run never loads the judge model)."""

    def __init__(self, model: str, factory):
        self.model = model
        self._factory = factory
        self._backend = None

    def complete(self, prompts: list[str]):
        if self._backend is None:
            self._backend = self._factory()
        return self._backend.complete(prompts)


def _local_factory(settings: dict, pointer: dict, name: str):
    def build():
        from polyinstruct import models
        from polyinstruct.judge.local import LocalJudge

        local = settings["local"]
        tokenizer = models.load_tokenizer(pointer)
        if settings["engine"] == "vllm":
            from polyinstruct import vllm_engine

            engine = vllm_engine.VLLMEngine(vllm_engine.model_source(pointer, "base", None),
                                            {**settings["generate"], "max_new_tokens": local["max_new_tokens"]})
            return LocalJudge(None, tokenizer, batch_size=local["batch_size"], max_new_tokens=local["max_new_tokens"],
                              response_prefix=local["response_prefix"], name=name, engine=engine)
        return LocalJudge(models.load_causal_lm(pointer), tokenizer, batch_size=local["batch_size"],
                          max_new_tokens=local["max_new_tokens"], response_prefix=local["response_prefix"], name=name)
    return build


def make_judge(settings: dict, pointer: dict | None = None, context: dict | None = None) -> CachedJudge:
    """The cached judge of one job; `context` (protocol, run, ...) goes into each ledger line."""
    name = judge_identity(settings, pointer)
    if settings["backend"] == "openai":
        from polyinstruct.judge import openai_backend

        factory = lambda: openai_backend.from_config(settings["openai"])  # noqa: E731
    elif settings["backend"] == "local":
        if pointer is None:
            raise InputError("config key 'score.judge.backend': the local judge needs the judge model's pointer")
        factory = _local_factory(settings, pointer, name)
    else:
        raise InputError(f"config key 'score.judge.backend': {settings['backend']!r} is not one of local, openai")
    cache_dir = Path(settings["cache_dir"])
    return CachedJudge(LazyBackend(name, factory), JudgeCache(cache_dir),
                       CostLedger(cache_dir / LEDGER, settings["prices"], context), chunk_size=settings["chunk_size"])


class _Versioned:
    """Chen's `single.grade` asks `complete(prompts)`; the cache needs the template version too."""

    def __init__(self, judge, version: str):
        self.judge, self.version, self.model = judge, version, judge.model

    def complete(self, prompts: list[str]):
        return self.judge.complete(prompts, template=self.version)


def judge_single(protocol: str, records: list[dict], judge, settings: dict) -> tuple[list[dict], dict]:
    """Rows of a one-response protocol (chen_single, mt_bench_single, criteria, relevance)."""
    p = settings["protocol"]
    if protocol == "chen_single":
        template = single.Template(p["template"])
        rows, stats = single.grade(records, _Versioned(judge, template.version), template, judge.model)
        stats["parse_failures"] = sum(r["parse_error"] is not None for r in rows)
        for row, record in zip(rows, records):
            row["category"] = record.get("category")
        return rows, stats
    if protocol == "mt_bench_single":
        templates = TemplateSet(settings["template_dir"], p["templates"], single.TURN_ROLES)
        return single.grade_turns(records, judge, templates, scale=tuple(p["scale"]), integer=p["integer_only"],
                                  reference_categories=tuple(p["reference_categories"]))
    if protocol == "criteria":
        return criteria.grade(records, judge, TemplateSet(settings["template_dir"], p["templates"],
                                                          criteria.CRITERIA_ROLES))
    if protocol == "relevance":
        return relevance.grade(records, judge, TemplateSet(settings["template_dir"], p["templates"],
                                                           relevance.RELEVANCE_ROLES))
    raise InputError(f"config key 'score.judge.protocols': unknown protocol {protocol!r} "
                     f"(one of {', '.join(JUDGE_PROTOCOLS)})")


def judge_pair(first: list[dict], second: list[dict], judge, settings: dict, names: tuple[str, str]):
    p = settings["protocol"]
    templates = TemplateSet(settings["template_dir"], p["templates"], pairwise.PAIR_ROLES)
    return pairwise.compare(first, second, judge, templates, names=names, allow_both_bad=p["allow_both_bad"],
                            inconsistent=p["inconsistent"], reference_categories=tuple(p["reference_categories"]))


def calls_summary(judge: CachedJudge, stats: dict, rows: list[dict]) -> dict:
    """What one job cost: real calls, cache hits, failures, tokens, cost (from its own ledger lines)."""
    session = judge.ledger.session
    return {"judge": judge.model, "rows": len(rows), "parse_failures": sum(r["parse_error"] is not None for r in rows),
            "prompts": stats.get("prompts", 0), "calls": stats.get("calls", 0),
            "cache_hits": stats.get("cache_hits", 0), "failed_calls": stats.get("failed_calls", 0),
            "prompt_tokens": session["prompt_tokens"], "completion_tokens": session["completion_tokens"],
            "cost": session["cost"], "unpriced_calls": session["unpriced_calls"], **judge.ledger.context}


class PlanningJudge:
    """Stands in for a `CachedJudge`: counts the distinct uncached prompts it is asked, answers nothing."""

    def __init__(self, model: str, cache: JudgeCache):
        self.model = model
        self.cache = cache
        self.seen: set[str] = set()
        self.planned = 0
        self.prompts = 0

    def complete(self, prompts: list[str], template: str):
        self.prompts += len(prompts)
        for prompt in prompts:
            key = cache_key(self.model, template, prompt)
            if key not in self.seen and not self.cache.has(key):
                self.planned += 1
            self.seen.add(key)
        return [None] * len(prompts), {}


def plan(jobs: list[dict], settings_by_protocol: dict, pointer: dict | None = None) -> dict:
    """Judge calls the given jobs would make now: {total, by_protocol: {p: {jobs, prompts, calls}}}.

    A job is {protocol, responses: [path] or [first, second], names (pairwise)}. Prompts answered in
    the cache, and prompts repeated across jobs, cost nothing.
    """
    from polyinstruct.io import load_jsonl

    planners: dict[str, PlanningJudge] = {}
    out: dict[str, dict] = {}
    for job in jobs:
        protocol = job["protocol"]
        settings = settings_by_protocol[protocol]
        name = judge_identity(settings, pointer)
        cache_dir = str(Path(settings["cache_dir"]))
        planner = planners.setdefault(f"{cache_dir}|{name}", PlanningJudge(name, JudgeCache(cache_dir)))
        before_calls, before_prompts = planner.planned, planner.prompts
        records = [load_jsonl(path) for path in job["responses"]]
        if protocol == PAIRWISE:
            judge_pair(records[0], records[1], planner, settings, tuple(job["names"]))
        else:
            judge_single(protocol, records[0], planner, settings)
        entry = out.setdefault(protocol, {"jobs": 0, "prompts": 0, "calls": 0})
        entry["jobs"] += 1
        entry["prompts"] += planner.prompts - before_prompts
        entry["calls"] += planner.planned - before_calls
    return {"total_calls": sum(e["calls"] for e in out.values()), "by_protocol": out}
