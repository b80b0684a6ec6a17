"""A persistent judge cache: one sqlite file, keyed by (judge model, template version, rendered prompt).

A rendered prompt is a string (one user message) or a list of chat messages, system prompt included,
so the key covers what the judge is told in full. A repeated judgment (pairwise `repeats`) adds its
repeat index to the key, so each repeat is its own call; the first keeps the plain key.

A re-run of a finished judging job therefore makes no call at all, and a job killed half-way
resumes from what it had stored. Only answers that came back are stored; failed calls are retried
on the next run.

Jobs that run at once share the file, and often the same prompts (two runs' identical answers, a
reference). Before calling, a job claims the keys it is about to ask (`claim`); a key another live
job has claimed is waited for, not asked again, so the judge is paid once per prompt. A claim lives
while its owner's heartbeat does: it is taken over when the owner's process is gone (same host) or
its heartbeat is older than `lease_seconds` (another host, or a hung job). An answer stored, or a
call that failed, ends the claim.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import threading
import time
import uuid
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

CLAIMS = """
CREATE TABLE IF NOT EXISTS judge_claims (
    key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    heartbeat REAL NOT NULL
)
"""

LEASE_SECONDS = 120.0  # a claim whose heartbeat is older than this is taken over


def new_owner() -> str:
    """A claimant's identity, unique per call (a claim row records its host and process beside it)."""
    return uuid.uuid4().hex


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        pass
    return True


def cache_key(model: str, template: str, prompt: str | list[dict], repeat: int = 0) -> str:
    parts = [model, template, prompt] + ([repeat] if repeat else [])
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()


class JudgeCache:
    """`<cache_dir>/judge_cache.sqlite`; safe to share between threads of one process."""

    def __init__(self, cache_dir: str | Path, lease_seconds: float = LEASE_SECONDS):
        self.path = Path(cache_dir) / "judge_cache.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.lease_seconds = lease_seconds
        self._host = socket.gethostname()
        self._lock = threading.Lock()
        # transactions are explicit (BEGIN IMMEDIATE where a read decides a write); jobs wait for each other's
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=60)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(SCHEMA)
            self._db.execute(CLAIMS)

    def get(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT completion FROM judge_cache WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def has(self, key: str) -> bool:
        return self.get(key) is not None

    def put(self, key: str, model: str, template: str, completion: str, usage: dict | None = None) -> None:
        usage = usage or {}
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT OR REPLACE INTO judge_cache VALUES (?, ?, ?, ?, ?, ?)",
                (key, model, template, completion, usage.get("prompt_tokens"), usage.get("completion_tokens")),
            )
            self._db.execute("DELETE FROM judge_claims WHERE key = ?", (key,))

    def claim(self, keys: list[str], owner: str) -> tuple[list[str], list[str]]:
        """Claim the keys neither answered nor held by a live claimant: (claimed, held by others).

        Keys already answered are in neither list. One transaction, so two jobs never claim one key."""
        claimed, held = [], []
        now = time.time()
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            for key in keys:
                if self._db.execute("SELECT 1 FROM judge_cache WHERE key = ?", (key,)).fetchone():
                    continue
                row = self._db.execute(
                    "SELECT owner, host, pid, heartbeat FROM judge_claims WHERE key = ?", (key,)
                ).fetchone()
                if row is not None and row[0] != owner and not self._stale(row, now):
                    held.append(key)
                    continue
                self._db.execute(
                    "INSERT OR REPLACE INTO judge_claims VALUES (?, ?, ?, ?, ?)",
                    (key, owner, self._host, os.getpid(), now),
                )
                claimed.append(key)
        return claimed, held

    def _stale(self, row: tuple, now: float) -> bool:
        _, host, pid, heartbeat = row
        return now - heartbeat > self.lease_seconds or (host == self._host and not _alive(pid))

    def heartbeat(self, owner: str) -> None:
        """Keep the owner's claims alive (call well within `lease_seconds`)."""
        with self._lock, self._db:
            self._db.execute("UPDATE judge_claims SET heartbeat = ? WHERE owner = ?", (time.time(), owner))

    def release(self, owner: str, keys: list[str] | None = None) -> None:
        """End the owner's claims (those on `keys`, or all): a failed call, or the job is done."""
        with self._lock, self._db:
            if keys is None:
                self._db.execute("DELETE FROM judge_claims WHERE owner = ?", (owner,))
            else:
                self._db.executemany("DELETE FROM judge_claims WHERE key = ? AND owner = ?", [(k, owner) for k in keys])

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM judge_cache").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
