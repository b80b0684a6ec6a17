"""The interface every judge backend has, and the cache + ledger layer that wraps any of them.

A backend (`LocalJudge`, `OpenAIJudge`) has a `model` name and
`complete(prompts) -> (answers, stats)`: answers in prompt order, None for a call that failed
for good; `stats["usage"]` holds per-prompt {prompt_tokens, completion_tokens} (or None) and
`stats["attempts"]` per-prompt attempt counts when the backend knows them. A prompt is a string (sent
as one user message) or a list of chat messages ({role, content}, e.g. FastChat's system prompt and
user prompt); `as_messages` turns either into messages.

Protocols ask a judge with `complete(prompts, template=version)` (and `repeat=r` for the r-th repeat
of a repeated judgment); `CachedJudge` gives any backend that signature, answering repeats from the
cache and writing each real call to the ledger. Jobs sharing a cache at once ask each prompt once
(see the claims in `judge/cache.py`).
"""

from __future__ import annotations

import threading
import time

from polyinstruct.score.judge.cache import JudgeCache, cache_key, new_owner
from polyinstruct.score.judge.ledger import CostLedger


def as_messages(prompt: str | list[dict]) -> list[dict]:
    """A judge prompt as chat messages: a string is one user message."""
    return [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)


class CachedJudge:
    """Cache lookups first; the misses (deduplicated) go to the backend in chunks, stored as they return."""

    poll_seconds = 0.5  # how often a job waiting on another job's claims looks at the cache

    def __init__(self, backend, cache: JudgeCache, ledger: CostLedger | None = None, chunk_size: int = 64):
        self.backend = backend
        self.model = backend.model
        self.cache = cache
        self.ledger = ledger
        self.chunk_size = chunk_size

    def _misses(self, prompts: list, template: str, repeat: int = 0) -> dict[str, str | list[dict]]:
        """{key: prompt} of distinct prompts not in the cache, in first-seen order."""
        misses: dict[str, str | list[dict]] = {}
        for prompt in prompts:
            key = cache_key(self.model, template, prompt, repeat)
            if key not in misses and not self.cache.has(key):
                misses[key] = prompt
        return misses

    def planned_calls(self, prompts: list, template: str, repeat: int = 0) -> int:
        """Dry run: how many backend calls `complete` would make now (cache hits and repeats excluded)."""
        return len(self._misses(prompts, template, repeat))

    def complete(self, prompts: list, template: str, repeat: int = 0) -> tuple[list[str | None], dict]:
        """Answers in prompt order. Each distinct miss is asked once, here or by a job asking it now.

        The misses are claimed in the cache first; those another live job holds are waited for and
        read from the cache when it stores them (or asked here if its call fails or it dies). A prompt
        whose call failed here is None in these answers even if a waiting job has answered it since,
        so the answers agree with `failed_calls` whatever the timing (a rerun reads it from the cache)."""
        misses = self._misses(prompts, template, repeat)
        asked = truncated = 0
        failed: set[str] = set()  # keys whose call here failed: None in this job's answers, whoever answers later
        if misses:  # a job whose prompts are all answered claims nothing (and writes nothing)
            owner, pending = new_owner(), list(misses)
            with _Heartbeat(self.cache, owner):
                while pending:
                    claimed, held = self.cache.claim(pending, owner)
                    for start in range(0, len(claimed), self.chunk_size):
                        chunk = claimed[start : start + self.chunk_size]
                        answers, stats = self.backend.complete([misses[k] for k in chunk])
                        asked += len(chunk)
                        truncated += stats.get("truncated_prompts", 0)
                        usage = stats.get("usage") or [None] * len(chunk)
                        attempts = stats.get("attempts") or [1] * len(chunk)
                        unanswered = []
                        for i, (key, answer) in enumerate(zip(chunk, answers)):
                            if answer is None:
                                unanswered.append(key)
                                continue
                            self.cache.put(key, self.model, template, answer, usage[i])  # ends its claim
                            if self.ledger is not None:
                                self.ledger.record(
                                    model=self.model, template=template, key=key, usage=usage[i], attempts=attempts[i]
                                )
                        failed.update(unanswered)
                        self.cache.release(owner, unanswered)  # a waiting job may try them
                    pending = held
                    if pending and not claimed:
                        time.sleep(self.poll_seconds)
        keys = [cache_key(self.model, template, p, repeat) for p in prompts]
        answers = [None if key in failed else self.cache.get(key) for key in keys]
        stats = {
            "prompts": len(prompts),
            "calls": asked - len(failed),
            "failed_calls": len(failed),
            "cache_hits": len(prompts) - asked,
        }
        if truncated:
            stats["truncated_prompts"] = truncated  # judge prompts the local judge cut to fit its context
        return answers, stats


class _Heartbeat:
    """Keeps an owner's claims alive while a `complete` runs; ends any left when it returns or raises."""

    def __init__(self, cache: JudgeCache, owner: str):
        self.cache, self.owner = cache, owner
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="judge-claims", daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(self.cache.lease_seconds / 4):
            self.cache.heartbeat(self.owner)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.cache.release(self.owner)


def ask(judge, prompts: list, templates: list[str], repeat: int = 0) -> tuple[list[str | None], dict]:
    """Answers for prompts rendered from (possibly) different templates: one judge call per version.

    `repeat` r > 0 asks for the r-th repeat of the same judgments (its own cache entries)."""
    answers: list[str | None] = [None] * len(prompts)
    totals: dict[str, int] = {}
    extra = {"repeat": repeat} if repeat else {}
    for version in dict.fromkeys(templates):
        index = [i for i, t in enumerate(templates) if t == version]
        got, stats = judge.complete([prompts[i] for i in index], template=version, **extra)
        for i, answer in zip(index, got):
            answers[i] = answer
        for name, value in stats.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                totals[name] = totals.get(name, 0) + value
    return answers, totals
