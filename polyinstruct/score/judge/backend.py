"""The interface every judge backend has, and the cache + ledger layer that wraps any of them.

A backend (`LocalJudge`, `OpenAIJudge`) has a `model` name and
`complete(prompts) -> (answers, stats)`: answers in prompt order, None for a call that failed
for good; `stats["usage"]` holds per-prompt {prompt_tokens, completion_tokens} (or None) and
`stats["attempts"]` per-prompt attempt counts when the backend knows them.

Protocols ask a judge with `complete(prompts, template=version)`; `CachedJudge` gives any
backend that signature, answering repeats from the cache and writing each real call to the ledger.
"""

from __future__ import annotations

from polyinstruct.score.judge.cache import JudgeCache, cache_key
from polyinstruct.score.judge.ledger import CostLedger


class CachedJudge:
    """Cache lookups first; the misses (deduplicated) go to the backend in chunks, stored as they return."""

    def __init__(self, backend, cache: JudgeCache, ledger: CostLedger | None = None, chunk_size: int = 64):
        self.backend = backend
        self.model = backend.model
        self.cache = cache
        self.ledger = ledger
        self.chunk_size = chunk_size

    def _misses(self, prompts: list[str], template: str) -> dict[str, str]:
        """{key: prompt} of distinct prompts not in the cache, in first-seen order."""
        misses: dict[str, str] = {}
        for prompt in prompts:
            key = cache_key(self.model, template, prompt)
            if key not in misses and not self.cache.has(key):
                misses[key] = prompt
        return misses

    def planned_calls(self, prompts: list[str], template: str) -> int:
        """Dry run: how many backend calls `complete` would make now (cache hits and repeats excluded)."""
        return len(self._misses(prompts, template))

    def complete(self, prompts: list[str], template: str) -> tuple[list[str | None], dict]:
        misses = self._misses(prompts, template)
        keys = list(misses)
        failed = 0
        for start in range(0, len(keys), self.chunk_size):
            chunk = keys[start : start + self.chunk_size]
            answers, stats = self.backend.complete([misses[k] for k in chunk])
            usage = stats.get("usage") or [None] * len(chunk)
            attempts = stats.get("attempts") or [1] * len(chunk)
            for i, (key, answer) in enumerate(zip(chunk, answers)):
                if answer is None:
                    failed += 1
                    continue
                self.cache.put(key, self.model, template, answer, usage[i])
                if self.ledger is not None:
                    self.ledger.record(
                        model=self.model, template=template, key=key, usage=usage[i], attempts=attempts[i]
                    )
        answers = [self.cache.get(cache_key(self.model, template, p)) for p in prompts]
        stats = {
            "prompts": len(prompts),
            "calls": len(keys) - failed,
            "failed_calls": failed,
            "cache_hits": len(prompts) - len(keys),
        }
        return answers, stats


def ask(judge, prompts: list[str], templates: list[str]) -> tuple[list[str | None], dict]:
    """Answers for prompts rendered from (possibly) different templates: one judge call per version."""
    answers: list[str | None] = [None] * len(prompts)
    totals: dict[str, int] = {}
    for version in dict.fromkeys(templates):
        index = [i for i, t in enumerate(templates) if t == version]
        got, stats = judge.complete([prompts[i] for i in index], template=version)
        for i, answer in zip(index, got):
            answers[i] = answer
        for name, value in stats.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                totals[name] = totals.get(name, 0) + value
    return answers, totals
