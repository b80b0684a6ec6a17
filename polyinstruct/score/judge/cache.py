"""A persistent judge cache: one sqlite file, keyed by (judge model, template version, rendered prompt).

A rendered prompt is a string (one user message) or a list of chat messages, system prompt included,
so the key covers what the judge is told in full. A repeated judgment (pairwise `repeats`) adds its
repeat index to the key, so each repeat is its own call; the first keeps the plain key.

A re-run of a finished judging job therefore makes no call at all, and a job killed half-way
resumes from what it had stored. Only answers that came back are stored; failed calls are retried
on the next run.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS judge_cache (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    template TEXT NOT NULL,
    completion TEXT NOT NULL,
    prompt_tokens INTEGER,
    completion_tokens INTEGER
)
"""


def cache_key(model: str, template: str, prompt: str | list[dict], repeat: int = 0) -> str:
    parts = [model, template, prompt] + ([repeat] if repeat else [])
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()


class JudgeCache:
    """`<cache_dir>/judge_cache.sqlite`; safe to share between threads of one process."""

    def __init__(self, cache_dir: str | Path):
        self.path = Path(cache_dir) / "judge_cache.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        with self._lock, self._db:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(SCHEMA)

    def get(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT completion FROM judge_cache WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def has(self, key: str) -> bool:
        return self.get(key) is not None

    def put(self, key: str, model: str, template: str, completion: str, usage: dict | None = None) -> None:
        usage = usage or {}
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO judge_cache VALUES (?, ?, ?, ?, ?, ?)",
                (key, model, template, completion, usage.get("prompt_tokens"), usage.get("completion_tokens")),
            )

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM judge_cache").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
