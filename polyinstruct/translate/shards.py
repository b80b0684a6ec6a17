"""Shards: the unit of translation work, of resume, and of QA accounting."""

from __future__ import annotations

from collections import Counter

from polyinstruct.io import load_jsonl, read_json
from polyinstruct.score.langid import LanguageIdentifier
from polyinstruct.translate.engines import Engine
from polyinstruct.translate.qa import DEFAULT_LENGTH_RATIO, check_records

POLICIES = ("keep", "drop", "fallback")


def select_shard(records: list[dict], shard: str, shard_size: int) -> list[dict]:
    start = int(shard) * shard_size
    return records[start : start + shard_size]


def translate_shard(
    records: list[dict],
    engine: Engine,
    source_lang: str,
    target_lang: str,
    identifier: LanguageIdentifier,
    policy: str,
    *,
    fallback: Engine | None = None,
    length_ratio: tuple[float, float] = DEFAULT_LENGTH_RATIO,
) -> tuple[list[dict], dict]:
    """Translate, check and filter one shard; returns (kept records, QA manifest).

    Policies: keep flagged records (with their reasons), drop them, or re-translate them with a
    fallback engine and keep the result only if it passes every check (else drop it).
    """
    if policy not in POLICIES:
        raise ValueError(f"config key 'translate.qa.policy': unknown policy '{policy}' (one of {POLICIES})")
    if policy == "fallback" and fallback is None:
        raise ValueError("config key 'translate.qa.fallback_engine': the fallback policy needs an engine")
    sources = {r["id"]: r for r in records}
    translated, not_translated = engine.translate_records(records, source_lang, target_lang)
    checked = check_records(translated, target_lang, identifier, sources, length_ratio)
    flags = Counter(flag for r in checked for flag in r["qa"]["flags"])
    flagged = [r for r in checked if r["qa"]["flags"]]
    outcome: Counter = Counter()
    if policy == "keep":
        kept = checked
    else:
        kept = [r for r in checked if not r["qa"]["flags"]]
        if policy == "fallback" and flagged:
            retried, _ = fallback.translate_records([sources[r["id"]] for r in flagged], source_lang, target_lang)
            rechecked = check_records(retried, target_lang, identifier, sources, length_ratio)
            for record in rechecked:
                if record["qa"]["flags"]:
                    outcome["fallback_failed"] += 1
                else:
                    record["qa"]["fallback"] = fallback.name
                    outcome["fallback_used"] += 1
                    kept.append(record)
            order = {r["id"]: i for i, r in enumerate(records)}
            kept.sort(key=lambda r: order[r["id"]])
    manifest = {
        "engine": engine.name,
        "fallback_engine": fallback.name if fallback else None,
        "source_lang": source_lang,
        "target_lang": target_lang,
        "policy": policy,
        "records_in": len(records),
        "translated": len(translated),
        "not_translated": dict(sorted(not_translated.items())),
        "flagged": len(flagged),
        "flags": dict(sorted(flags.items())),
        "fallback": dict(sorted(outcome.items())),
        "dropped_by_policy": len(checked) - len(kept),
        "records_out": len(kept),
    }
    return kept, manifest


def merge_shards(shard_paths: list[str], qa_paths: list[str]) -> tuple[list[dict], dict]:
    """Concatenate shards in order and sum their QA manifests."""
    records = [r for path in shard_paths for r in load_jsonl(path)]
    totals: Counter = Counter()
    nested: dict[str, Counter] = {"not_translated": Counter(), "flags": Counter(), "fallback": Counter()}
    for path in qa_paths:
        qa = read_json(path)
        for key in ("records_in", "translated", "flagged", "dropped_by_policy", "records_out"):
            totals[key] += qa[key]
        for key in nested:
            nested[key].update(qa.get(key, {}))
    manifest = {**dict(totals), **{k: dict(sorted(v.items())) for k, v in nested.items()}, "shards": len(shard_paths)}
    return records, manifest
