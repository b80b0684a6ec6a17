"""Jobs that share a judge cache at once ask each prompt once (claims in judge/cache.py).

The backend here stands in for a paid API: it answers after a delay and writes one line per prompt it
is asked to a file, which is what the judge would bill. Everything else is the real cache, in its
sqlite file, used by separate processes the way two Snakemake jobs use it.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time
from pathlib import Path

import pytest

from polyinstruct.score.judge.backend import CachedJudge
from polyinstruct.score.judge.cache import JudgeCache, cache_key, new_owner
from polyinstruct.score.judge.ledger import CostLedger, ledger_totals

PRICES = {"prompt_per_million": 1.0, "completion_per_million": 1.0}
TEMPLATE = "single-v1@test"


class BilledJudge:
    """Answers "Rating: [[n]]" after `delay` s; appends each prompt it is asked to `billed` (one process or many)."""

    model = "billed-judge"

    def __init__(self, billed: Path, delay: float = 0.0, fail: frozenset = frozenset()):
        self.billed, self.delay, self.fail = billed, delay, fail
        self.entered = threading.Event()  # set once a call has begun, i.e. its prompts are claimed

    def complete(self, prompts):
        self.entered.set()
        time.sleep(self.delay)
        with open(self.billed, "a", encoding="utf-8") as fh:
            for prompt in prompts:
                fh.write(json.dumps({"pid": os.getpid(), "prompt": prompt}) + "\n")
        answers = [None if p in self.fail else f"Rating: [[{len(p) % 10}]]" for p in prompts]
        usage = [{"prompt_tokens": len(p.split()), "completion_tokens": 5} for p in prompts]
        return answers, {"usage": usage}


def billed(path: Path) -> list[str]:
    return [json.loads(line)["prompt"] for line in path.read_text().splitlines()] if path.exists() else []


def _job(cache_dir: str, billed_path: str, prompts: list[str], start, out: str) -> None:
    judge = CachedJudge(
        BilledJudge(Path(billed_path), delay=0.5),
        JudgeCache(cache_dir),
        CostLedger(Path(cache_dir) / "ledger.jsonl", PRICES),
        chunk_size=2,
    )
    start.wait()
    answers, stats = judge.complete(prompts, TEMPLATE)
    Path(out).write_text(json.dumps({"answers": answers, "stats": stats}))


def test_two_processes_asking_overlapping_prompts_pay_for_each_once(tmp_path):
    first = [f"Rate the answer {i}" for i in range(6)]
    second = first[3:] + [f"Rate the answer {i}" for i in range(6, 9)]  # three prompts in common
    ctx = multiprocessing.get_context("fork")
    start = ctx.Barrier(2)
    jobs = [
        ctx.Process(target=_job, args=(str(tmp_path / "cache"), str(tmp_path / "billed.jsonl"), p, start, str(out)))
        for p, out in ((first, tmp_path / "a.json"), (second, tmp_path / "b.json"))
    ]
    for job in jobs:
        job.start()
    for job in jobs:
        job.join(60)
        assert job.exitcode == 0
    asked = billed(tmp_path / "billed.jsonl")
    assert sorted(asked) == sorted(set(first + second))  # nine prompts, each billed once
    a, b = (json.loads((tmp_path / name).read_text()) for name in ("a.json", "b.json"))
    assert a["answers"] == [f"Rating: [[{len(p) % 10}]]" for p in first]
    assert b["answers"] == [f"Rating: [[{len(p) % 10}]]" for p in second]
    assert a["stats"]["calls"] + b["stats"]["calls"] == 9
    assert a["stats"]["cache_hits"] + b["stats"]["cache_hits"] == 3  # the shared three, read from the cache
    assert ledger_totals(tmp_path / "cache/ledger.jsonl")["calls"] == 9
    cache = JudgeCache(tmp_path / "cache")
    assert len(cache) == 9 and cache.claim([], "nobody") == ([], [])
    assert cache._db.execute("SELECT COUNT(*) FROM judge_claims").fetchone()[0] == 0  # no claim is left


def _claim_and_die(cache_dir: str, key: str) -> None:
    JudgeCache(cache_dir).claim([key], new_owner())
    os._exit(0)  # killed mid-job: the claim stays in the file


def test_a_claim_left_by_a_dead_process_is_taken_over_at_once(tmp_path):
    prompt = "Rate the answer of a job that was killed"
    key = cache_key(BilledJudge.model, TEMPLATE, prompt)
    dead = multiprocessing.get_context("fork").Process(target=_claim_and_die, args=(str(tmp_path), key))
    dead.start()
    dead.join(30)
    cache = JudgeCache(tmp_path, lease_seconds=3600)
    assert cache._db.execute("SELECT pid FROM judge_claims").fetchall() == [(dead.pid,)]
    judge = CachedJudge(BilledJudge(tmp_path / "billed.jsonl"), cache)
    began = time.monotonic()
    answers, stats = judge.complete([prompt], TEMPLATE)
    assert time.monotonic() - began < 30  # not the hour's lease: the owner's process is gone
    assert answers == [f"Rating: [[{len(prompt) % 10}]]"] and stats["calls"] == 1
    assert billed(tmp_path / "billed.jsonl") == [prompt]


def test_a_claim_whose_heartbeat_stopped_is_taken_over_after_the_lease(tmp_path):
    prompt = "Rate the answer of a job on another node"
    key = cache_key(BilledJudge.model, TEMPLATE, prompt)
    cache = JudgeCache(tmp_path, lease_seconds=1.0)
    assert cache.claim([key], "other-node:4242:abc") == ([key], [])  # a live pid here, but no heartbeat
    assert cache.claim([key], new_owner()) == ([], [key])
    judge = CachedJudge(BilledJudge(tmp_path / "billed.jsonl"), cache)
    began = time.monotonic()
    answers, stats = judge.complete([prompt], TEMPLATE)
    assert time.monotonic() - began >= 1.0 and stats["calls"] == 1
    assert billed(tmp_path / "billed.jsonl") == [prompt]


def test_the_heartbeat_keeps_a_long_call_claimed(tmp_path):
    prompts = ["Rate a long answer", "Rate another long answer"]
    backend = BilledJudge(tmp_path / "billed.jsonl", delay=4.0)
    slow = CachedJudge(backend, JudgeCache(tmp_path, lease_seconds=2.0))
    waiting = CachedJudge(BilledJudge(tmp_path / "billed.jsonl"), JudgeCache(tmp_path, lease_seconds=2.0))
    results = {}
    owner = threading.Thread(target=lambda: results.setdefault("slow", slow.complete(prompts, TEMPLATE)))
    owner.start()
    assert backend.entered.wait(30)  # the slow job has claimed both and is inside its 4 s call
    results["waiting"] = waiting.complete(prompts, TEMPLATE)
    owner.join()
    assert billed(tmp_path / "billed.jsonl") == prompts  # two lease periods passed; nobody took over
    assert results["waiting"][0] == results["slow"][0] and results["waiting"][1]["calls"] == 0


def test_a_failed_call_ends_its_claim_and_the_waiting_job_asks(tmp_path):
    prompt = "Rate the answer the judge refused once"
    backend = BilledJudge(tmp_path / "billed.jsonl", delay=1.0, fail=frozenset([prompt]))
    failing = CachedJudge(backend, JudgeCache(tmp_path))
    waiting = CachedJudge(BilledJudge(tmp_path / "billed.jsonl"), JudgeCache(tmp_path))
    results = {}
    owner = threading.Thread(target=lambda: results.setdefault("failing", failing.complete([prompt], TEMPLATE)))
    owner.start()
    assert backend.entered.wait(30)
    results["waiting"] = waiting.complete([prompt], TEMPLATE)
    owner.join()
    assert results["failing"][0] == [None] and results["failing"][1]["failed_calls"] == 1
    assert results["waiting"][0] == [f"Rating: [[{len(prompt) % 10}]]"] and results["waiting"][1]["calls"] == 1
    assert billed(tmp_path / "billed.jsonl") == [prompt, prompt]


def test_a_failed_call_stays_failed_for_its_job_when_another_job_answers_it_at_once(tmp_path):
    """The race CI once hit: the waiting job stores the answer between this job's release and its read."""
    prompt = "Rate the answer the judge refused once"
    key = cache_key(BilledJudge.model, TEMPLATE, prompt)

    class AnsweredOnRelease(JudgeCache):
        def release(self, owner, keys=None):
            super().release(owner, keys)
            if keys:  # the waiting job claims the released key and stores its answer before this job reads
                JudgeCache(tmp_path).put(key, BilledJudge.model, TEMPLATE, "Rating: [[8]]")

    backend = BilledJudge(tmp_path / "billed.jsonl", fail=frozenset([prompt]))
    answers, stats = CachedJudge(backend, AnsweredOnRelease(tmp_path)).complete([prompt, prompt], TEMPLATE)
    assert answers == [None, None] and stats["failed_calls"] == 1 and stats["calls"] == 0
    assert JudgeCache(tmp_path).get(key) == "Rating: [[8]]"  # a rerun of this job reads it from the cache
    answers, stats = CachedJudge(backend, JudgeCache(tmp_path)).complete([prompt], TEMPLATE)
    assert answers == ["Rating: [[8]]"] and stats == {"prompts": 1, "calls": 0, "failed_calls": 0, "cache_hits": 1}


def test_an_error_in_the_backend_releases_the_claims(tmp_path):
    class Broken(BilledJudge):
        def complete(self, prompts):
            raise RuntimeError("connection reset")

    cache = JudgeCache(tmp_path)
    with pytest.raises(RuntimeError, match="connection reset"):
        CachedJudge(Broken(tmp_path / "billed.jsonl"), cache).complete(["Rate this"], TEMPLATE)
    assert cache._db.execute("SELECT COUNT(*) FROM judge_claims").fetchone()[0] == 0
