"""An LLM judge behind any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, TGI, ...).

The API key is read from the environment variable named in config (`score.judge.openai.api_key_env`);
it is handed to the client only and scrubbed from any error text, so it is never logged or written.
A prompt is a string (one user message) or chat messages (FastChat's judges send their system prompt
as a system message). Calls run in a thread pool bounded by `concurrency`. Rate limits (429), server errors (5xx),
time-outs and dropped connections are retried with exponential backoff; a prompt still failing
after `max_retries` comes back as None and is counted, other errors (400, 401, 404) stop the run.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from polyinstruct.io import InputError
from polyinstruct.score.judge.backend import as_messages


class JudgeCallError(RuntimeError):
    """A judge call failed in a way retrying cannot fix (bad request, bad key, unknown model)."""


class OpenAIJudge:
    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key_env: str,
        concurrency: int = 4,
        max_retries: int = 5,
        backoff_seconds: float = 1.0,
        max_backoff_seconds: float = 60.0,
        timeout_seconds: float = 60.0,
        temperature: float = 0.0,
        max_tokens: int = 1024,
        response_format: str | None = None,
        key: str = "score.judge.openai",
    ):
        import openai

        api_key = os.environ.get(api_key_env) if api_key_env else None
        if not api_key:
            raise InputError(
                f"config key '{key}.api_key_env': environment variable '{api_key_env}' "
                "is not set or empty (it must hold the judge's API key)"
            )
        if concurrency < 1:
            raise InputError(f"config key '{key}.concurrency': must be >= 1, got {concurrency}")
        self.model = model
        self.base_url = base_url
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.temperature = temperature
        self.max_tokens = max_tokens
        # a protocol setting (score.judge.criteria.response_format): the API's JSON mode, sent only when set
        self.response_format = {"type": response_format} if response_format else None
        self._secret = api_key
        self._openai = openai
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout_seconds, max_retries=0)
        self._retryable = (
            openai.RateLimitError,
            openai.InternalServerError,
            openai.APITimeoutError,
            openai.APIConnectionError,
        )
        self._lock = threading.Lock()
        self.errors: list[str] = []  # one line per failed attempt, key scrubbed

    def __repr__(self) -> str:
        return f"OpenAIJudge(model={self.model!r}, base_url={self.base_url!r})"

    def _scrub(self, text: str) -> str:
        return text.replace(self._secret, "***")

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number `attempt` (0-based): doubling, capped, at least Retry-After."""
        wait = min(self.max_backoff_seconds, self.backoff_seconds * 2**attempt)
        if retry_after is not None:
            wait = min(self.max_backoff_seconds, max(wait, retry_after))
        return wait

    def _call(self, prompt: str | list[dict]) -> tuple[str | None, dict | None, int]:
        """(answer or None, usage, attempts made)."""
        for attempt in range(self.max_retries + 1):
            try:
                response = self._client.chat.completions.create(
                    model=self.model,
                    messages=as_messages(prompt),
                    temperature=self.temperature,
                    max_tokens=self.max_tokens,
                    **({"response_format": self.response_format} if self.response_format else {}),
                )
            except self._retryable as exc:
                self._note(f"attempt {attempt + 1}: {type(exc).__name__}: {self._scrub(str(exc))[:200]}")
                if attempt == self.max_retries:
                    return None, None, attempt + 1
                time.sleep(self.backoff(attempt, _retry_after(exc)))
                continue
            except self._openai.APIStatusError as exc:
                raise JudgeCallError(
                    f"judge call to {self.base_url} (model {self.model}) failed with HTTP "
                    f"{exc.status_code}: {self._scrub(str(exc))[:500]}"
                ) from None
            usage = response.usage
            tokens = (
                {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens}
                if usage is not None
                else None
            )
            return response.choices[0].message.content or "", tokens, attempt + 1
        raise AssertionError("unreachable")

    def _note(self, line: str) -> None:
        with self._lock:
            self.errors.append(line)

    def complete(self, prompts: list) -> tuple[list[str | None], dict]:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            results = list(pool.map(self._call, prompts))
        attempts = [r[2] for r in results]
        return [r[0] for r in results], {
            "prompts": len(prompts),
            "usage": [r[1] for r in results],
            "attempts": attempts,
            "retries": sum(attempts) - len(prompts),
            "failed": sum(r[0] is None for r in results),
            "seconds": round(time.perf_counter() - started, 3),
        }


def _retry_after(exc) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def from_config(settings: dict, key: str = "score.judge.openai") -> OpenAIJudge:
    """Build the judge from `score.judge.openai` config; every missing required key is named."""
    for name in ("base_url", "model", "api_key_env"):
        if not settings.get(name):
            raise InputError(f"config key '{key}.{name}': required")
    options = {
        k: settings[k]
        for k in (
            "concurrency",
            "max_retries",
            "backoff_seconds",
            "max_backoff_seconds",
            "timeout_seconds",
            "temperature",
            "max_tokens",
            "response_format",
        )
        if k in settings
    }
    return OpenAIJudge(
        base_url=settings["base_url"], model=settings["model"], api_key_env=settings["api_key_env"], key=key, **options
    )
