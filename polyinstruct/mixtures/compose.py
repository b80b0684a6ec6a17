"""Language mixtures for instruction tuning (Chen et al. 2024; Weber et al. 2024).

All mixtures share one train/validation split of the *source ids*, so a parallel record never
sits in training in one language and in validation in another. Every random choice comes from
a generator seeded by (seed, mixture), so re-running yields byte-identical files.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter

KEEP_FIELDS = ("id", "source", "lang", "task", "direction", "instruction", "input", "output", "messages")


def is_validation(record_id: str, seed: int, fraction: float) -> bool:
    """A stable, seeded coin per source id (independent of file order and language)."""
    digest = hashlib.sha256(f"{seed}:{record_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def split(records: list[dict], seed: int, fraction: float) -> tuple[list[dict], list[dict]]:
    train, valid = [], []
    for record in records:
        (valid if is_validation(record["id"], seed, fraction) else train).append(record)
    return train, valid


def _slim(record: dict) -> dict:
    return {k: record[k] for k in KEEP_FIELDS if k in record}


def _rng(seed: int, mixture: str, part: str) -> random.Random:
    return random.Random(f"{seed}:{mixture}:{part}")


def _sampled(by_lang: dict[str, list[dict]], languages: list[str], rng: random.Random) -> list[dict]:
    """Each source id exactly once, in one language, with languages as balanced as coverage allows."""
    index = {lang: {r["id"]: r for r in by_lang[lang]} for lang in languages}
    ids = sorted({rid for lang in languages for rid in index[lang]})
    rng.shuffle(ids)
    available_in = {rid: [lang for lang in languages if rid in index[lang]] for rid in ids}
    # the most constrained ids (missing translations) choose first, so they cannot unbalance the rest
    ids.sort(key=lambda rid: len(available_in[rid]))
    used: Counter = Counter({lang: 0 for lang in languages})
    out = []
    for i, rid in enumerate(ids):
        available = available_in[rid]
        # least-used language first; rotate the tie order so ties do not favour one language
        rotation = {lang: (languages.index(lang) - i) % len(languages) for lang in available}
        lang = min(available, key=lambda lg: (used[lg], rotation[lg]))
        used[lang] += 1
        out.append(index[lang][rid])
    return out


def _compose(
    mixture: str, part: str, by_lang: dict[str, list[dict]], languages: list[str], source_lang: str, seed: int
) -> list[dict]:
    rng = _rng(seed, mixture, part)
    if mixture.startswith("mono-"):
        records = list(by_lang[mixture[len("mono-") :]])
    elif mixture == "multilingual":
        records = [r for lang in languages for r in by_lang[lang]]
    elif mixture == "downsampled":
        pool = [r for lang in languages for r in by_lang[lang]]
        records = rng.sample(pool, min(len(by_lang[source_lang]), len(pool)))
    elif mixture == "sampled":
        records = _sampled(by_lang, languages, rng)
    else:
        raise ValueError(f"unknown mixture '{mixture}'")
    rng.shuffle(records)
    return [_slim(r) for r in records]


def build(
    mixture: str,
    by_lang: dict[str, list[dict]],
    languages: list[str],
    source_lang: str,
    seed: int,
    validation_fraction: float,
) -> tuple[list[dict], list[dict], dict]:
    """Return (train, valid, manifest counts) for one mixture from per-language records."""
    train_by_lang, valid_by_lang = {}, {}
    for lang in languages:
        train_by_lang[lang], valid_by_lang[lang] = split(by_lang.get(lang, []), seed, validation_fraction)
    train = _compose(mixture, "train", train_by_lang, languages, source_lang, seed)
    valid = _compose(mixture, "valid", valid_by_lang, languages, source_lang, seed)
    counts = {
        "train": dict(sorted(Counter(r["lang"] for r in train).items())),
        "valid": dict(sorted(Counter(r["lang"] for r in valid).items())),
        "train_total": len(train),
        "valid_total": len(valid),
        "unique_source_ids_train": len({r["id"] for r in train}),
    }
    return train, valid, counts


def _draw(records: list[dict], n: int, rng: random.Random) -> list[dict]:
    return rng.sample(records, min(n, len(records)))


def build_shares(
    mixture: str,
    parts: dict[str, list[dict]],
    shares: dict[str, float],
    budget: int,
    seed: int,
    validation_fraction: float,
    drop: tuple[str, ...] = (),
) -> tuple[list[dict], list[dict], dict]:
    """A mixture drawn by shares of a budget (BayLing 2: 43% zh, 26% en, 31% cross-lingual).

    `parts` maps each share key (a language, or `crosslingual`) to its records. Part k gets
    round(share_k * budget) training records (and the same share of round(budget * fraction)
    validation records), all it has when that is fewer (the shortfall is counted). The draw depends
    on (seed, part) only, so a mixture that `drop`s a part (the ablation) keeps the other parts'
    records exactly.
    """
    total = sum(shares.values())
    valid_budget = round(budget * validation_fraction)
    train, valid, shortfall = [], [], {}
    for key in shares:
        part_train, part_valid = split(parts.get(key, []), seed, validation_fraction)
        want_train = round(shares[key] / total * budget)
        want_valid = round(shares[key] / total * valid_budget)
        rng = _rng(seed, "shares", key)
        drawn_train, drawn_valid = _draw(part_train, want_train, rng), _draw(part_valid, want_valid, rng)
        missing = (want_train - len(drawn_train), want_valid - len(drawn_valid))
        if any(missing):
            shortfall[key] = {"train": missing[0], "valid": missing[1]}
        if key in drop:
            continue
        train += drawn_train
        valid += drawn_valid
    for part, records in (("train", train), ("valid", valid)):
        _rng(seed, mixture, part).shuffle(records)
    train, valid = [_slim(r) for r in train], [_slim(r) for r in valid]

    def by_part(records):
        return dict(sorted(Counter(r.get("task") and "crosslingual" or r["lang"] for r in records).items()))

    counts = {
        "train": by_part(train),
        "valid": by_part(valid),
        "train_total": len(train),
        "valid_total": len(valid),
        "unique_source_ids_train": len({r["id"] for r in train}),
        "budget": budget,
        "shares": {k: shares[k] / total for k in shares},
        "dropped_parts": list(drop),
        "shortfall": shortfall,
        "crosslingual_tasks": dict(sorted(Counter(r["task"] for r in train if r.get("task")).items())),
    }
    return train, valid, counts
