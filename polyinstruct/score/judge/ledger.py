"""The cost ledger: one JSONL line per judge call that came back, with its tokens and estimated cost.

Prices are per 1M tokens, from config (`score.judge.prices`), so the same ledger can be re-priced by
re-reading it. Cache hits are not calls and are not written. The API key is never part of a line.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from polyinstruct.io import InputError, read_jsonl


def call_cost(usage: dict | None, prices: dict) -> float | None:
    """Estimated cost in the prices' currency; None when the backend reported no token counts."""
    if not usage or usage.get("prompt_tokens") is None or usage.get("completion_tokens") is None:
        return None
    return (
        usage["prompt_tokens"] * prices["prompt_per_million"]
        + usage["completion_tokens"] * prices["completion_per_million"]
    ) / 1_000_000


def check_prices(prices: dict, key: str = "score.judge.prices") -> dict:
    for name in ("prompt_per_million", "completion_per_million"):
        value = prices.get(name) if isinstance(prices, dict) else None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise InputError(f"config key '{key}.{name}': a price per 1M tokens (number >= 0), got {value!r}")
    return prices


class CostLedger:
    """Append-only `ledger.jsonl`; each line is written whole and flushed."""

    def __init__(self, path: str | Path, prices: dict, context: dict | None = None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.prices = check_prices(prices)
        self.context = dict(context or {})  # e.g. protocol, run, evalset, lang: who made the calls
        self.session = _zero()  # what this process recorded, for the job's own calls file
        self._lock = threading.Lock()

    def record(self, *, model: str, template: str, key: str, usage: dict | None, attempts: int) -> dict:
        entry = {
            "time": round(time.time(), 3),
            "model": model,
            "template": template,
            "key": key,
            "prompt_tokens": (usage or {}).get("prompt_tokens"),
            "completion_tokens": (usage or {}).get("completion_tokens"),
            "cost": call_cost(usage, self.prices),
            "attempts": attempts,
            **self.context,
        }
        with self._lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
            fh.flush()
            _add(self.session, entry)
        return entry


def ledger_totals(path: str | Path) -> dict:
    """{calls, attempts, prompt_tokens, completion_tokens, cost, unpriced_calls, by_model: {...}}."""
    totals = _zero()
    by_model: dict[str, dict] = {}
    if Path(path).exists():
        for _, entry in read_jsonl(path):
            for bucket in (totals, by_model.setdefault(entry["model"], _zero())):
                _add(bucket, entry)
    return {**totals, "by_model": by_model}


def _add(bucket: dict, entry: dict) -> None:
    bucket["calls"] += 1
    bucket["attempts"] += entry.get("attempts", 1)
    bucket["prompt_tokens"] += entry.get("prompt_tokens") or 0
    bucket["completion_tokens"] += entry.get("completion_tokens") or 0
    if entry.get("cost") is None:
        bucket["unpriced_calls"] += 1
    else:
        bucket["cost"] += entry["cost"]


def _zero() -> dict:
    return {"calls": 0, "attempts": 0, "prompt_tokens": 0, "completion_tokens": 0, "cost": 0.0, "unpriced_calls": 0}
