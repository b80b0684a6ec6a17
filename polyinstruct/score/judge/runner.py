"""One judging job from config: which backend answers, wrapped in the cache and ledger, asked by which protocol.

`settings` is what `workflow.inputs.judge_settings` hands a job: the backend (`local` or `openai`),
the protocol's own block, the template directory, the shared cache directory and the prices.
A backend is built lazily, so a job whose prompts are all cached loads no model and opens no
connection. `plan` counts the calls a set of jobs would make without making any (the dry run).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from polyinstruct.io import InputError
from polyinstruct.score.judge import pairwise, protocols
from polyinstruct.score.judge.backend import CachedJudge
from polyinstruct.score.judge.cache import JudgeCache, cache_key
from polyinstruct.score.judge.ledger import CostLedger

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
        shaping = [o["temperature"], o["max_tokens"]] + ([o["response_format"]] if o.get("response_format") else [])
        return f"{o['model']}@{_digest(shaping)}"
    local = settings["local"]
    source = (pointer or {}).get("source")
    shaping = [source, local["max_new_tokens"], local["response_prefix"], settings["engine"]]
    if local.get("template", "chat") != "chat":  # a chat judge keeps the identity (and cache) it had
        shaping.append(local["template"])
    return f"{settings['model']}@{_digest(shaping)}"


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
        from polyinstruct.models import loader
        from polyinstruct.score.judge.local import LocalJudge

        local = settings["local"]
        tokenizer = loader.load_tokenizer(pointer)
        if settings["engine"] == "vllm":
            from polyinstruct.generate import vllm_engine

            engine = vllm_engine.VLLMEngine(
                vllm_engine.model_source(pointer, "base", None),
                {**settings["generate"], "max_new_tokens": local["max_new_tokens"]},
            )
            return LocalJudge(
                None,
                tokenizer,
                batch_size=local["batch_size"],
                max_new_tokens=local["max_new_tokens"],
                response_prefix=local["response_prefix"],
                name=name,
                engine=engine,
                template=local.get("template", "chat"),
            )
        return LocalJudge(
            loader.load_causal_lm(pointer),
            tokenizer,
            batch_size=local["batch_size"],
            max_new_tokens=local["max_new_tokens"],
            response_prefix=local["response_prefix"],
            name=name,
            template=local.get("template", "chat"),
        )

    return build


def make_judge(settings: dict, pointer: dict | None = None, context: dict | None = None) -> CachedJudge:
    """The cached judge of one job; `context` (protocol, run, ...) goes into each ledger line."""
    name = judge_identity(settings, pointer)
    if settings["backend"] == "openai":
        from polyinstruct.score.judge import openai_backend

        factory = lambda: openai_backend.from_config(settings["openai"])  # noqa: E731
    elif settings["backend"] == "local":
        if pointer is None:
            raise InputError("config key 'score.judge.backend': the local judge needs the judge model's pointer")
        factory = _local_factory(settings, pointer, name)
    else:
        raise InputError(f"config key 'score.judge.backend': {settings['backend']!r} is not one of local, openai")
    cache_dir = Path(settings["cache_dir"])
    return CachedJudge(
        LazyBackend(name, factory),
        JudgeCache(cache_dir),
        CostLedger(cache_dir / LEDGER, settings["prices"], context),
        chunk_size=settings["chunk_size"],
    )


def judge_single(protocol: str, records: list[dict], judge, settings: dict) -> tuple[list[dict], dict]:
    """Rows of a one-response protocol (see protocols.REGISTRY)."""
    entry = protocols.get(protocol)
    block = settings["protocol"]
    return protocols.grade(entry, records, judge, entry.templates(settings["template_dir"], block), block)


def judge_pair(protocol: str, first: list[dict], second: list[dict], judge, settings: dict, names: tuple[str, str]):
    entry, block = protocols.get(protocol), settings["protocol"]
    return pairwise.compare(
        first,
        second,
        judge,
        entry.templates(settings["template_dir"], block),
        names=names,
        allow_both_bad=block["allow_both_bad"],
        inconsistent=block["inconsistent"],
        reference_categories=tuple(block["reference_categories"]),
        parser=block.get("parser", "strict"),
        repeats=block.get("repeats", 1),
    )


def calls_summary(judge: CachedJudge, stats: dict, rows: list[dict]) -> dict:
    """What one job cost: real calls, cache hits, failures, tokens, cost (from its own ledger lines)."""
    session = judge.ledger.session
    return {
        "judge": judge.model,
        "rows": len(rows),
        "parse_failures": sum(r["parse_error"] is not None for r in rows),
        "prompts": stats.get("prompts", 0),
        "calls": stats.get("calls", 0),
        "cache_hits": stats.get("cache_hits", 0),
        "failed_calls": stats.get("failed_calls", 0),
        "truncated_prompts": stats.get("truncated_prompts", 0),
        "judge_prompt_lines_skipped": stats.get("judge_prompt_lines_skipped", 0),
        **{k: stats[k] for k in ("reference_missing", "out_of_scale") if k in stats},
        "prompt_tokens": session["prompt_tokens"],
        "completion_tokens": session["completion_tokens"],
        "cost": session["cost"],
        "unpriced_calls": session["unpriced_calls"],
        **judge.ledger.context,
    }


class PlanningJudge:
    """Stands in for a `CachedJudge`: counts the distinct uncached prompts it is asked, answers nothing."""

    def __init__(self, model: str, cache: JudgeCache):
        self.model = model
        self.cache = cache
        self.seen: set[str] = set()
        self.planned = 0
        self.prompts = 0

    def complete(self, prompts: list, template: str, repeat: int = 0):
        self.prompts += len(prompts)
        for prompt in prompts:
            key = cache_key(self.model, template, prompt, repeat)
            if key not in self.seen and not self.cache.has(key):
                self.planned += 1
            self.seen.add(key)
        return [None] * len(prompts), {}


def plan(jobs: list[dict], settings_by_protocol: dict, pointers: dict[str, dict] | None = None) -> dict:
    """Judge calls the given jobs would make now: {total, by_protocol: {p: {jobs, prompts, calls}}}.

    A job is {protocol, responses: [path] or [first, second], names (pairwise)}; `pointers` holds the
    local judge model's pointer per protocol. Prompts answered in the cache, and prompts repeated
    across jobs, cost nothing.
    """
    from polyinstruct.io import load_jsonl

    planners: dict[str, PlanningJudge] = {}
    out: dict[str, dict] = {}
    for job in jobs:
        protocol = job["protocol"]
        settings = settings_by_protocol[protocol]
        name = judge_identity(settings, (pointers or {}).get(protocol))
        cache_dir = str(Path(settings["cache_dir"]))
        planner = planners.setdefault(f"{cache_dir}|{name}", PlanningJudge(name, JudgeCache(cache_dir)))
        before_calls, before_prompts = planner.planned, planner.prompts
        records = [load_jsonl(path) for path in job["responses"]]
        if protocols.get(protocol).pairwise:
            judge_pair(protocol, records[0], records[1], planner, settings, tuple(job["names"]))
        else:
            judge_single(protocol, records[0], planner, settings)
        entry = out.setdefault(protocol, {"jobs": 0, "prompts": 0, "calls": 0})
        entry["jobs"] += 1
        entry["prompts"] += planner.prompts - before_prompts
        entry["calls"] += planner.planned - before_calls
    return {"total_calls": sum(e["calls"] for e in out.values()), "by_protocol": out}
