"""The OpenAI-compatible judge against a real HTTP server on 127.0.0.1 that misbehaves on purpose."""

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from polyinstruct.io import InputError
from polyinstruct.score.judge import openai_backend
from polyinstruct.score.judge.backend import CachedJudge, ask
from polyinstruct.score.judge.cache import JudgeCache, cache_key
from polyinstruct.score.judge.ledger import CostLedger, ledger_totals
from polyinstruct.score.judge.openai_backend import JudgeCallError, OpenAIJudge

SECRET = "sk-test-7f3a9c-never-write-me"
PRICES = {"prompt_per_million": 2.0, "completion_per_million": 8.0}
DIRECTIVE = re.compile(r"\[(429|500|slow|always500|401)x?(\d*)\]")


class FakeOpenAI(BaseHTTPRequestHandler):
    """Chat completions. A prompt containing [429x2] gets two 429s before success, [500x1] one 500,
    [slowx1] one response slower than the client's time-out, [always500] only 500s, [401] a 401.
    Success: "Rating: [[7]]", prompt_tokens = words in the prompt, completion_tokens = 5."""

    server_version = "FakeOpenAI/1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        state = self.server.state
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        prompt = body["messages"][0]["content"]
        with state["lock"]:
            state["hits"][prompt] = state["hits"].get(prompt, 0) + 1
            hit = state["hits"][prompt]
            state["auth"].add(self.headers.get("Authorization"))
        self._answer(prompt, hit, body)

    def _answer(self, prompt, hit, body):
        match = DIRECTIVE.search(prompt)
        kind, times = (match.group(1), int(match.group(2) or 0)) if match else (None, 0)
        if kind == "401":
            return self._send(
                401,
                {
                    "error": {
                        "message": f"Incorrect API key provided: {SECRET}",
                        "type": "invalid_request_error",
                        "code": "invalid_api_key",
                    }
                },
            )
        if kind == "always500" or (kind == "500" and hit <= times):
            return self._send(500, {"error": {"message": "upstream exploded", "type": "server_error"}})
        if kind == "429" and hit <= times:
            return self._send(429, {"error": {"message": "slow down", "type": "rate_limit"}})
        if kind == "slow" and hit <= times:
            time.sleep(0.8)
        if "[busy]" in prompt:
            # counted while the answer is being prepared, before it is sent: a client that got its answer
            # may send its next request before this thread could count the previous one as done
            state = self.server.state
            with state["lock"]:
                state["inflight"] += 1
                state["max_inflight"] = max(state["max_inflight"], state["inflight"])
            time.sleep(0.1)
            with state["lock"]:
                state["inflight"] -= 1
        self._send(
            200,
            {
                "id": f"chatcmpl-{hit}",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Rating: [[7]]"}}
                ],
                "usage": {
                    "prompt_tokens": len(prompt.split()),
                    "completion_tokens": 5,
                    "total_tokens": len(prompt.split()) + 5,
                },
            },
        )

    def _send(self, status, payload):
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out and left


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    httpd.daemon_threads = True
    httpd.state = {"lock": threading.Lock(), "hits": {}, "auth": set(), "inflight": 0, "max_inflight": 0}
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def judge(server, monkeypatch):
    monkeypatch.setenv("JUDGE_TEST_KEY", SECRET)
    return OpenAIJudge(
        base_url=f"http://127.0.0.1:{server.server_port}/v1",
        model="judge-4o",
        api_key_env="JUDGE_TEST_KEY",
        concurrency=3,
        max_retries=3,
        backoff_seconds=0.01,
        max_backoff_seconds=0.05,
        timeout_seconds=0.4,
    )


PROMPTS = [
    "Rate this: plain answer",
    "Rate this: [429x2] busy server",
    "Rate this: [500x1] flaky",
    "Rate this: [slowx1] sleepy",
    "Rate this: [always500] broken",
    "Rate this: plain answer",
]


def test_retries_cache_and_ledger(server, judge, tmp_path):
    cache = JudgeCache(tmp_path / "cache")
    cached = CachedJudge(judge, cache, CostLedger(tmp_path / "cache/ledger.jsonl", PRICES))
    assert cached.planned_calls(PROMPTS, "mt_bench_single.v1") == 5  # the repeated prompt is asked once

    answers, stats = cached.complete(PROMPTS, "mt_bench_single.v1")
    hits = server.state["hits"]
    assert answers == ["Rating: [[7]]"] * 4 + [None, "Rating: [[7]]"]
    assert [hits[p] for p in PROMPTS[:5]] == [1, 3, 2, 2, 4]  # 2 x 429, 1 x 500, 1 time-out, 1 + 3 retries
    assert stats == {"prompts": 6, "calls": 4, "failed_calls": 1, "cache_hits": 1}
    assert server.state["auth"] == {f"Bearer {SECRET}"}

    totals = ledger_totals(tmp_path / "cache/ledger.jsonl")
    words = sum(len(p.split()) for p in PROMPTS[:4])
    assert (totals["calls"], totals["attempts"]) == (4, 1 + 3 + 2 + 2)
    assert (totals["prompt_tokens"], totals["completion_tokens"]) == (words, 20)
    assert totals["cost"] == pytest.approx((words * 2.0 + 20 * 8.0) / 1e6)
    assert totals["by_model"]["judge-4o"]["calls"] == 4 and totals["unpriced_calls"] == 0
    assert len(cache) == 4

    # Only the failed prompt is still to do; a re-run of the answered ones makes zero calls.
    assert cached.planned_calls(PROMPTS, "mt_bench_single.v1") == 1
    before = dict(hits)
    again = CachedJudge(judge, JudgeCache(tmp_path / "cache"), CostLedger(tmp_path / "cache/ledger.jsonl", PRICES))
    answers, stats = again.complete(PROMPTS[:4], "mt_bench_single.v1")
    assert answers == ["Rating: [[7]]"] * 4 and dict(server.state["hits"]) == before
    assert stats["calls"] == 0 and stats["cache_hits"] == 4
    assert ledger_totals(tmp_path / "cache/ledger.jsonl")["calls"] == 4
    # The same prompt under another template version is another cache entry.
    assert again.planned_calls(PROMPTS[:1], "mt_bench_single.v2") == 1

    for path in (tmp_path / "cache").iterdir():
        assert SECRET.encode() not in path.read_bytes(), path
    assert SECRET not in repr(judge) and not any(SECRET in line for line in judge.errors)
    assert any("RateLimitError" in line for line in judge.errors)
    assert any("APITimeoutError" in line for line in judge.errors)


def test_concurrency_is_bounded(server, monkeypatch):
    # a generous time-out: on a loaded machine a 0.1 s answer may take longer than the other tests' 0.4 s
    monkeypatch.setenv("JUDGE_TEST_KEY", SECRET)
    judge = OpenAIJudge(
        base_url=f"http://127.0.0.1:{server.server_port}/v1",
        model="judge-4o",
        api_key_env="JUDGE_TEST_KEY",
        concurrency=3,
        max_retries=3,
        backoff_seconds=0.01,
        max_backoff_seconds=0.05,
        timeout_seconds=10,
    )
    prompts = [f"[busy] prompt {i}" for i in range(9)]
    answers, stats = judge.complete(prompts)
    assert answers == ["Rating: [[7]]"] * 9 and stats["retries"] == 0
    assert 1 < server.state["max_inflight"] <= 3


def test_unretryable_errors_stop_and_never_show_the_key(server, judge):
    with pytest.raises(JudgeCallError, match="HTTP 401") as err:
        judge.complete(["[401] prompt"])
    assert SECRET not in str(err.value) and "***" in str(err.value)
    assert server.state["hits"]["[401] prompt"] == 1


def test_backoff_doubles_up_to_the_cap(judge):
    assert [judge.backoff(a) for a in range(4)] == [0.01, 0.02, 0.04, 0.05]
    assert judge.backoff(0, retry_after=0.03) == 0.03 and judge.backoff(0, retry_after=9) == 0.05


def test_missing_key_and_config_errors_name_the_key(monkeypatch):
    monkeypatch.delenv("NO_SUCH_JUDGE_KEY", raising=False)
    with pytest.raises(
        InputError,
        match="config key 'score.judge.openai.api_key_env': environment variable 'NO_SUCH_JUDGE_KEY' is not set",
    ):
        openai_backend.from_config(
            {"base_url": "http://127.0.0.1:9/v1", "model": "m", "api_key_env": "NO_SUCH_JUDGE_KEY"}
        )
    with pytest.raises(InputError, match="config key 'score.judge.openai.model': required"):
        openai_backend.from_config({"base_url": "http://127.0.0.1:9/v1", "api_key_env": "X"})


def test_ask_groups_prompts_by_template_version(server, judge, tmp_path):
    cached = CachedJudge(judge, JudgeCache(tmp_path), CostLedger(tmp_path / "ledger.jsonl", PRICES))
    answers, stats = ask(cached, ["p1", "p2", "p1"], ["t.v1", "t.v2", "t.v2"])
    assert answers == ["Rating: [[7]]"] * 3 and stats["calls"] == 3 and stats["prompts"] == 3
    assert cached.cache.has(cache_key("judge-4o", "t.v2", "p1"))


def test_ledger_prices_are_checked(tmp_path):
    with pytest.raises(InputError, match=r"config key 'score.judge.prices.completion_per_million': a price"):
        CostLedger(tmp_path / "ledger.jsonl", {"prompt_per_million": 1.0})


def test_local_judge_fits_the_backend_interface(tiny_llama, tmp_path):
    from polyinstruct.models import loader
    from polyinstruct.score.judge.local import LocalJudge

    pointer = {"name": "tiny", "load": {"pretrained_model_name_or_path": str(tiny_llama)}}
    local = LocalJudge(
        loader.load_causal_lm(pointer),
        loader.load_tokenizer(pointer),
        batch_size=2,
        max_new_tokens=3,
        response_prefix="Rating: [[",
        name="tiny-llama",
    )
    cached = CachedJudge(local, JudgeCache(tmp_path), CostLedger(tmp_path / "ledger.jsonl", PRICES))
    prompts = ["Rate: bonjour", "Rate: hello"]
    first, stats = cached.complete(prompts, "chen_single_1to3.v1")
    assert stats["calls"] == 2 and all(a.startswith("Rating: [[") for a in first)
    totals = ledger_totals(tmp_path / "ledger.jsonl")
    assert totals["calls"] == 2 and totals["prompt_tokens"] > 0 and totals["cost"] > 0
    second, stats = cached.complete(prompts, "chen_single_1to3.v1")
    assert second == first and stats["calls"] == 0 and stats["cache_hits"] == 2
