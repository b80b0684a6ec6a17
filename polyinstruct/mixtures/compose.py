"""Language mixtures for instruction tuning (Chen et al. 2024; Weber et al. 2024).

All mixtures share one train/validation split of the *source ids*, so a parallel record never
sits in training in one language and in validation in another. Every random choice comes from
a generator seeded by (seed, mixture), so re-running yields byte-identical files.
"""

from __future__ import annotations

import hashlib
import math
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


def seeded_rng(seed: int, mixture: str, part: str) -> random.Random:
    """The generator of one part of one mixture: seeded by (seed, mixture, part), the same in compose and stream."""
    return random.Random(f"{seed}:{mixture}:{part}")


def _sampled(by_lang: dict[str, list[dict]], languages: list[str], rng: random.Random) -> list[dict]:
    """Each source id exactly once, in one language, with languages as balanced as coverage allows."""
    index = {lang: {r["id"]: r for r in by_lang[lang]} for lang in languages}
    ids = sorted({rid for lang in languages for rid in index[lang]})
    rng.shuffle(ids)
    available_in = {rid: [lang for lang in languages if rid in index[lang]] for rid in ids}
    # the most constrained ids (missing translations) choose first, so they cannot unbalance the rest
    return [index[lang][rid] for rid, lang in balanced_languages(ids, available_in, languages)]


def balanced_languages(ids: list, available_in: dict, languages: list[str]) -> list[tuple]:
    """(id, language) for every id of `ids` (in their shuffled order), the most constrained ids first (a stable
    sort by how many languages have them), each in its least-used available language so far; the tie order
    rotates with the position so ties do not favour one language. Shared by compose and stream."""
    ids = sorted(ids, key=lambda rid: len(available_in[rid]))
    used: Counter = Counter({lang: 0 for lang in languages})
    out = []
    for i, rid in enumerate(ids):
        available = available_in[rid]
        rotation = {lang: (languages.index(lang) - i) % len(languages) for lang in available}
        lang = min(available, key=lambda lg: (used[lg], rotation[lg]))
        used[lang] += 1
        out.append((rid, lang))
    return out


def _compose(
    mixture: str, part: str, by_lang: dict[str, list[dict]], languages: list[str], source_lang: str, seed: int
) -> list[dict]:
    rng = seeded_rng(seed, mixture, part)
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


#: What a share-drawn mixture does when a part holds fewer records than its share of the budget:
#: `scale` the budget down until every part has its share (the shares are kept), `keep_budget` (the short
#: parts give all they have, the others fill the budget in proportion to their shares), or `error`.
SHORTFALL_POLICIES = ("scale", "keep_budget", "error")


def share_counts(shares: dict[str, float], budget: int, available: dict[str, int | None], policy: str) -> dict:
    """Training records per part of a share-drawn mixture, requested and realised under `policy`.

    `available` maps each part to the records it holds (None: unknown, taken as enough, as when planning
    without the parallel text). Requested: round(share x budget). The planning summary and the manifest
    both come from here, so what the plan promises is what the mixture draws.
    """
    if policy not in SHORTFALL_POLICIES:
        raise ValueError(f"config key 'crosslingual.mixture.shortfall': {policy!r} is not one of {SHORTFALL_POLICIES}")
    total = sum(shares.values())
    fraction = {k: shares[k] / total for k in shares}
    requested = {k: round(fraction[k] * budget) for k in shares}
    cap = {k: float("inf") if available.get(k) is None else available[k] for k in shares}
    short = {k: requested[k] - cap[k] for k in shares if requested[k] > cap[k]}
    if not short:
        realised = dict(requested)
    elif policy == "error":
        detail = ", ".join(f"{k} holds {cap[k]:,} of the {requested[k]:,} asked" for k in short)
        raise ValueError(
            f"config key 'crosslingual.mixture.shortfall': error, and parts fall short of their share of "
            f"{budget:,} records ({detail}); lower the budget, or choose scale or keep_budget"
        )
    elif policy == "scale":
        factor = min(cap[k] / (fraction[k] * budget) for k in shares if fraction[k] > 0)
        scaled = math.floor(budget * min(1.0, factor))
        realised = {k: min(round(fraction[k] * scaled), cap[k]) for k in shares}
    else:  # keep_budget: water-filling, the short parts fixed at what they hold
        realised, free, left = {}, [k for k in shares if fraction[k] > 0], budget
        while True:
            weight = sum(fraction[k] for k in free)
            capped = [k for k in free if cap[k] < fraction[k] / weight * left]
            if not capped:
                break
            for k in capped:
                realised[k] = cap[k]
                left -= cap[k]
                free.remove(k)
            if not free:
                break
        for k in free:
            realised[k] = round(fraction[k] / sum(fraction[j] for j in free) * left)
        realised = {k: int(realised.get(k, 0)) for k in shares}
    drawn = sum(realised.values())
    return {
        "policy": policy,
        "budget": budget,
        "realised_budget": drawn,
        "requested": requested,
        "realised": realised,
        "requested_shares": {k: round(fraction[k], 4) for k in shares},
        "realised_shares": {k: round(realised[k] / drawn, 4) if drawn else 0.0 for k in shares},
        "available": {k: available.get(k) for k in shares},
    }


def build_shares(
    mixture: str,
    parts: dict[str, list[dict]],
    shares: dict[str, float],
    budget: int,
    seed: int,
    validation_fraction: float,
    drop: tuple[str, ...] = (),
    policy: str = "scale",
) -> tuple[list[dict], list[dict], dict]:
    """A mixture drawn by shares of a budget (BayLing 2: 43.2% zh, 26.2% en, 30.6% cross-lingual).

    `parts` maps each share key (a language, or `crosslingual`) to its records. Part k gets its realised
    count of training records (`share_counts`: round(share_k * budget), unless a part is short and `policy`
    scales the budget or keeps it) and the same share of round(realised budget * fraction) validation
    records, all it has when that is fewer (counted). The manifest holds requested and realised counts and
    shares. The draw depends on (seed, part) only, and the ablation (`drop`) reads and counts every part
    before dropping one, so it keeps the other parts' records exactly.
    """
    split_parts = {key: split(parts.get(key, []), seed, validation_fraction) for key in shares}
    counts_train = share_counts(shares, budget, {k: len(split_parts[k][0]) for k in shares}, policy)
    drawn_total = counts_train["realised_budget"]
    valid_budget = round(drawn_total * validation_fraction)
    train, valid, shortfall = [], [], {}
    for key in shares:
        part_train, part_valid = split_parts[key]
        want_train = counts_train["realised"][key]
        want_valid = round(counts_train["realised_shares"][key] * valid_budget)
        rng = seeded_rng(seed, "shares", key)
        drawn_train, drawn_valid = _draw(part_train, want_train, rng), _draw(part_valid, want_valid, rng)
        # the cause: what a part lacks of its requested share (train), and of its validation share
        missing = (counts_train["requested"][key] - len(part_train), want_valid - len(drawn_valid))
        if any(m > 0 for m in missing):
            shortfall[key] = {"train": max(missing[0], 0), "valid": max(missing[1], 0)}
        if key in drop:
            continue
        train += drawn_train
        valid += drawn_valid
    for part, records in (("train", train), ("valid", valid)):
        seeded_rng(seed, mixture, part).shuffle(records)
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
        "shares": counts_train["requested_shares"],
        "shortfall_policy": policy,
        "realised_budget": drawn_total,
        "requested": counts_train["requested"],
        "realised": counts_train["realised"],
        "realised_shares": counts_train["realised_shares"],
        "available": counts_train["available"],
        "dropped_parts": list(drop),
        "shortfall": shortfall,
        "crosslingual_tasks": dict(sorted(Counter(r["task"] for r in train if r.get("task")).items())),
    }
    return train, valid, counts
