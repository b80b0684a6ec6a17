"""Realistic score summaries for report tests: scores.summarise_run over made-up judge and language-ID rows."""

import random

from polyinstruct.io import write_json, write_jsonl
from polyinstruct.score import scores
from polyinstruct.score.judge.criteria import CRITERIA

GATING = {"mode": "multiply", "by_protocol": {"criteria": "exclude"}}
CATEGORIES = ("writing", "roleplay", "math", "coding", "reasoning")
MODELS = {"small": 1.35e8, "large": 1.7e9, "unsized": None}
MIXTURES = ("mono-en", "mono-fr", "multilingual")
LANGS = ("en", "fr")


def runs():
    out = []
    for model in MODELS:
        out.append({"model": model, "method": "base", "dataset": "none", "mixture": "none", "lr": "0"})
        out += [{"model": model, "method": "lora", "dataset": "d", "mixture": m, "lr": "0.0003"} for m in MIXTURES]
    return out


def quality(run: dict, lang: str) -> float:
    """Chance of a good answer: bigger models and mixtures with the test language do better."""
    q = 0.35 + (0.25 if run["model"] == "large" else 0.0)
    if run["mixture"] == "multilingual" or run["mixture"] == f"mono-{lang}":
        q += 0.3
    return q


def run_rows(run: dict, lang: str, items: int, protocols, seed: int):
    rng = random.Random(f"{seed}-{run}-{lang}")
    q = quality(run, lang)
    langid, judged = [], {p: [] for p in protocols}
    for i in range(items):
        item, category = f"q{i:02d}", CATEGORIES[i % len(CATEGORIES)]
        right = [rng.random() < q + 0.3 for _ in range(2)]
        langid.append(
            {
                "id": item,
                "lang": lang,
                "category": category,
                "predicted": [lang if ok else "xx" for ok in right],
                "correct": all(right),
            }
        )
        good = rng.random() < q
        if "chen_single" in judged:
            rating = 3 if good else rng.choice([1, 2])
            failed = rng.random() < 0.05
            judged["chen_single"].append(
                {
                    "id": item,
                    "lang": lang,
                    "category": category,
                    "rating": None if failed else rating,
                    "parse_error": "no_rating" if failed else None,
                }
            )
        for turn in (1, 2):
            if "mt_bench_single" in judged:
                rating = rng.randint(6, 10) if good else rng.randint(1, 6)
                judged["mt_bench_single"].append(
                    {
                        "id": item,
                        "lang": lang,
                        "category": category,
                        "turn": turn,
                        "rating": rating,
                        "parse_error": None,
                    }
                )
            if "criteria" in judged:
                values = {c: (2 if good else rng.choice([0, 1])) for c in CRITERIA}
                values["correct_language"] = 2 if right[turn - 1] else 0
                judged["criteria"].append(
                    {
                        "id": item,
                        "lang": lang,
                        "category": category,
                        "turn": turn,
                        "criteria": values,
                        "parse_error": None,
                    }
                )
    return langid, judged


def write_experiment(
    root, protocols=("chen_single", "mt_bench_single", "criteria"), items=10, seed=0, evalset="ev"
) -> list[str]:
    """One summary (.json) and its gated rows (.jsonl) per run and language; returns the summary paths."""
    paths = []
    for run in runs():
        for lang in LANGS:
            langid, judged = run_rows(run, lang, items, protocols, seed)
            rows, summary = scores.summarise_run(langid, judged, GATING)
            path = root / "/".join(run.values()) / evalset / f"{lang}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            write_jsonl(path.with_suffix(".jsonl"), rows)
            write_json(path, {"run": run, "evalset": evalset, "lang": lang, "summary": summary})
            paths.append(str(path))
    return paths
