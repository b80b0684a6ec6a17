"""Shards: the unit of translation work, of resume, and of QA accounting."""
from __future__ import annotations

from collections import Counter

from polyinstruct.io import load_jsonl, read_json
from polyinstruct.langid import LanguageIdentifier
from polyinstruct.translate.engines import Engine
from polyinstruct.translate.qa import check_records


def select_shard(records: list[dict], shard: str, shard_size: int) -> list[dict]:
    start = int(shard) * shard_size
    return records[start:start + shard_size]


def translate_shard(records: list[dict], engine: Engine, source_lang: str, target_lang: str,
                    identifier: LanguageIdentifier, policy: str) -> tuple[list[dict], dict]:
    """Translate, check and filter one shard; returns (kept records, QA manifest)."""
    translated, not_translated = engine.translate_records(records, source_lang, target_lang)
    checked = check_records(translated, target_lang, identifier)
    flags = Counter(flag for r in checked for flag in r["qa"]["flags"])
    flagged = sum(1 for r in checked if r["qa"]["flags"])
    kept = [r for r in checked if policy == "keep" or not r["qa"]["flags"]]
    manifest = {
        "engine": engine.name,
        "source_lang": source_lang,
        "target_lang": target_lang,
        "policy": policy,
        "records_in": len(records),
        "translated": len(translated),
        "not_translated": dict(sorted(not_translated.items())),
        "flagged": flagged,
        "flags": dict(sorted(flags.items())),
        "dropped_by_policy": len(checked) - len(kept),
        "records_out": len(kept),
    }
    return kept, manifest


def merge_shards(shard_paths: list[str], qa_paths: list[str]) -> tuple[list[dict], dict]:
    """Concatenate shards in order and sum their QA manifests."""
    records = [r for path in shard_paths for r in load_jsonl(path)]
    totals: Counter = Counter()
    nested: dict[str, Counter] = {"not_translated": Counter(), "flags": Counter()}
    for path in qa_paths:
        qa = read_json(path)
        for key in ("records_in", "translated", "flagged", "dropped_by_policy", "records_out"):
            totals[key] += qa[key]
        for key in nested:
            nested[key].update(qa[key])
    manifest = {**dict(totals), **{k: dict(sorted(v.items())) for k, v in nested.items()}, "shards": len(shard_paths)}
    return records, manifest
