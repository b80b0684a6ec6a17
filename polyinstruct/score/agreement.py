"""Agreement between pairwise judges: the LLM judge against humans, and humans among themselves.

Votes are normalised to one point of view so that "A beats B" and "B loses to A" compare equal:
the key is (question id, turn, the two model names sorted) and the label is `win`, `loss`, `tie`
(or `both_bad`) for the alphabetically first model. Agreement follows MT-Bench (Zheng et al.):
the chance that two votes on the same question agree, with and without ties; chance-corrected
agreement is Cohen's kappa (two raters) and Fleiss' kappa (a fixed number of raters per item).
Confidence intervals are percentile bootstraps over questions, seeded, hence reproducible.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from polyinstruct.io import InputError, read_text

REQUIRED_COLUMNS = ("question_id", "model_a", "model_b", "annotator", "winner")
WINNERS = {
    "model_a": "A",
    "a": "A",
    "model_b": "B",
    "b": "B",
    "tie": "tie",
    "tie (bothbad)": "both_bad",
    "both_bad": "both_bad",
    "bothbad": "both_bad",
}
FLIP = {"win": "loss", "loss": "win", "tie": "tie", "both_bad": "both_bad"}


@dataclass(frozen=True)
class Vote:
    key: tuple[str, int, str, str]  # (question id, turn, first model, second model), models sorted
    label: str  # win | loss | tie | both_bad, for key[2]
    annotator: str
    where: str


def normalise_vote(question_id: str, turn: int, model_a: str, model_b: str, winner: str) -> tuple[tuple, str]:
    """(key, label) for a vote where `winner` is A, B, tie or both_bad about slots model_a/model_b."""
    first, second = sorted((model_a, model_b))
    label = {"A": "win", "B": "loss"}.get(winner, winner)
    return (question_id, turn, first, second), label if model_a == first else FLIP[label]


def read_human_votes(path: str | Path, merge_both_bad: bool = True) -> list[Vote]:
    """Votes from a CSV with columns question_id, model_a, model_b, annotator, winner (and optional turn).

    `winner` is model_a | model_b | tie | tie (bothbad) (MT-Bench's human judgments) or A | B.
    Every bad row raises naming file:line; the same annotator voting twice on a pair is an error; a file
    with no votes is refused.
    """
    votes: list[Vote] = []
    seen: dict[tuple, str] = {}
    with io.StringIO(read_text(path), newline="") as fh:  # bad bytes name file:line; a BOM is dropped
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise InputError(f"{path}:1: missing column(s) {', '.join(missing)} (have {', '.join(header) or 'none'})")
        for row in reader:
            where = f"{path}:{reader.line_num}"
            if None in row or any(row.get(c) is None for c in header):
                raise InputError(f"{where}: expected {len(header)} fields like the header")
            for column in REQUIRED_COLUMNS:
                if not row[column].strip():
                    raise InputError(f"{where}: empty '{column}'")
            winner = WINNERS.get(row["winner"].strip().lower())
            if winner is None:
                raise InputError(
                    f"{where}: winner {row['winner']!r} is not one of model_a, model_b, tie, tie (bothbad), A, B"
                )
            turn_text = (row.get("turn") or "1").strip()
            if not turn_text.isdigit() or int(turn_text) < 1:
                raise InputError(f"{where}: turn {turn_text!r} must be a positive integer")
            model_a, model_b = row["model_a"].strip(), row["model_b"].strip()
            if model_a == model_b:
                raise InputError(f"{where}: model_a and model_b are both '{model_a}'")
            if merge_both_bad and winner == "both_bad":
                winner = "tie"
            key, label = normalise_vote(row["question_id"].strip(), int(turn_text), model_a, model_b, winner)
            annotator = row["annotator"].strip()
            if (annotator, key) in seen:
                raise InputError(
                    f"{where}: annotator '{annotator}' already voted on this pair at {seen[(annotator, key)]}"
                )
            seen[(annotator, key)] = where
            votes.append(Vote(key, label, annotator, where))
    if not votes:
        raise InputError(f"{path}: no votes (only a header); agreement needs at least one vote")
    return votes


def judge_votes(pairwise_rows: list[dict], merge_both_bad: bool = True) -> tuple[dict[tuple, str], int]:
    """({key: label}, undecided count) from `judge.pairwise.compare` rows (after any gating).

    With repeated judgments (`repeats`), a pair takes the verdict of its first repeat that decided it:
    Weber et al. filled undecided (position-biased) pairs from a following run where possible. A pair
    no repeat decided is counted once as undecided."""
    out, seen = {}, set()
    for row in sorted(pairwise_rows, key=lambda r: r.get("repeat", 1)):
        key, _ = normalise_vote(str(row["id"]), int(row["turn"]), row["first"], row["second"], "tie")
        seen.add(key)
        outcome = row["outcome"]
        if outcome is None or key in out:
            continue
        if merge_both_bad and outcome == "both_bad":
            outcome = "tie"
        winner = {"win": "A", "loss": "B"}.get(outcome, outcome)
        key, label = normalise_vote(str(row["id"]), int(row["turn"]), row["first"], row["second"], winner)
        out[key] = label
    return out, len(seen - set(out))


def _rate(pairs: list[tuple[str, str]], with_ties: bool) -> dict:
    if not with_ties:
        pairs = [(a, b) for a, b in pairs if a in ("win", "loss") and b in ("win", "loss")]
    agree = sum(a == b for a, b in pairs)
    return {"agreement": agree / len(pairs) if pairs else None, "n": len(pairs)}


def judge_human_pairs(judge: dict[tuple, str], votes: list[Vote]) -> list[tuple[str, str]]:
    """(judge label, human label) for every human vote on a pair the judge decided."""
    return [(judge[v.key], v.label) for v in votes if v.key in judge]


def human_human_pairs(votes: list[Vote]) -> list[tuple[str, str]]:
    """(label, label) for every two different annotators' votes on the same key."""
    by_key: dict[tuple, list[Vote]] = defaultdict(list)
    for vote in votes:
        by_key[vote.key].append(vote)
    return [(a.label, b.label) for group in by_key.values() for a, b in itertools.combinations(group, 2)]


def agreement(pairs: list[tuple[str, str]]) -> dict:
    """MT-Bench agreement, with ties (`with_ties`) and on votes where neither side said tie (`without_ties`)."""
    return {"with_ties": _rate(pairs, True), "without_ties": _rate(pairs, False)}


def cohen_kappa(labels_1: Sequence[str], labels_2: Sequence[str]) -> float | None:
    """Cohen's kappa of two raters' labels on the same items; None when undefined (chance agreement 1)."""
    if len(labels_1) != len(labels_2):
        raise ValueError(f"Cohen's kappa needs paired labels, got {len(labels_1)} and {len(labels_2)}")
    n = len(labels_1)
    if n == 0:
        return None
    observed = sum(a == b for a, b in zip(labels_1, labels_2)) / n
    c1, c2 = Counter(labels_1), Counter(labels_2)
    expected = sum(c1[k] * c2[k] for k in c1) / (n * n)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


def fleiss_kappa(table: Sequence[Sequence[int]]) -> float | None:
    """Fleiss' kappa from an items x categories table of rater counts (same raters per item).

    None when undefined (every rating in one category, so chance agreement is 1).
    """
    if not table:
        return None
    raters = sum(table[0])
    if raters < 2:
        raise ValueError("Fleiss' kappa needs at least 2 ratings per item")
    for i, row in enumerate(table):
        if sum(row) != raters:
            raise ValueError(
                f"Fleiss' kappa needs the same number of ratings per item: item {i} has {sum(row)}, item 0 has {raters}"
            )
    n_items = len(table)
    p_item = [(sum(c * c for c in row) - raters) / (raters * (raters - 1)) for row in table]
    p_bar = sum(p_item) / n_items
    totals = [sum(row[j] for row in table) for j in range(len(table[0]))]
    p_cat = [t / (n_items * raters) for t in totals]
    p_e = sum(p * p for p in p_cat)
    if p_e == 1:
        return None
    return (p_bar - p_e) / (1 - p_e)


def fleiss_table(votes: list[Vote], raters: int | None = None) -> tuple[list[list[int]], list[str], dict]:
    """(table, categories, counts) over keys with exactly `raters` votes (default: the most common count).

    Keys with another number of votes are left out and counted in counts["excluded_items"].
    """
    by_key: dict[tuple, list[str]] = defaultdict(list)
    for vote in votes:
        by_key[vote.key].append(vote.label)
    if not by_key:
        return [], [], {"items": 0, "raters": raters, "excluded_items": 0}
    if raters is None:
        raters = Counter(len(v) for v in by_key.values()).most_common(1)[0][0]
    categories = sorted({v.label for v in votes})
    kept = [labels for labels in by_key.values() if len(labels) == raters]
    table = [[labels.count(c) for c in categories] for labels in kept]
    return table, categories, {"items": len(kept), "raters": raters, "excluded_items": len(by_key) - len(kept)}


def bootstrap_ci(
    units: Sequence,
    statistic: Callable[[list], float | None],
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict:
    """Percentile bootstrap of `statistic` over `units` (resampled with replacement), seeded.

    Resamples where the statistic is undefined (None) are skipped and counted.
    """
    import numpy as np

    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    units = list(units)
    point = statistic(units) if units else None
    if not units:
        return {"estimate": None, "low": None, "high": None, "resamples": 0, "undefined_resamples": 0}
    rng = np.random.default_rng(seed)
    values, undefined = [], 0
    for _ in range(n_resamples):
        value = statistic([units[i] for i in rng.integers(0, len(units), len(units))])
        if value is None:
            undefined += 1
        else:
            values.append(value)
    if not values:
        return {"estimate": point, "low": None, "high": None, "resamples": 0, "undefined_resamples": undefined}
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return {
        "estimate": point,
        "low": float(low),
        "high": float(high),
        "resamples": len(values),
        "undefined_resamples": undefined,
    }


def report(
    judge_rows: list[dict],
    votes: list[Vote],
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    fleiss_raters: int | None = None,
    merge_both_bad: bool = True,
) -> dict:
    """Judge-human and human-human agreement (with/without ties), Cohen's and Fleiss' kappa, with CIs.

    Bootstrap units are questions (key without the model pair), so every vote on a question moves
    together.
    """
    judge, undecided = judge_votes(judge_rows, merge_both_bad)
    questions: dict[tuple, list[Vote]] = defaultdict(list)
    for vote in votes:
        questions[vote.key[:2]].append(vote)
    units = list(questions.values())

    def flat(sample):
        return [v for group in sample for v in group]

    def jh_rate(sample):
        return _rate(judge_human_pairs(judge, flat(sample)), True)["agreement"]

    def hh_rate(sample):
        return _rate(human_human_pairs(flat(sample)), True)["agreement"]

    def jh_kappa(sample):
        pairs = judge_human_pairs(judge, flat(sample))
        return cohen_kappa([a for a, _ in pairs], [b for _, b in pairs])

    options = {"n_resamples": n_resamples, "confidence": confidence, "seed": seed}
    table, categories, fleiss_counts = fleiss_table(votes, fleiss_raters)
    jh_pairs = judge_human_pairs(judge, votes)
    return {
        "votes": len(votes),
        "questions": len(units),
        "annotators": len({v.annotator for v in votes}),
        "judge_undecided": undecided,
        "human_votes_without_judge_verdict": sum(v.key not in judge for v in votes),
        "judge_human": {**agreement(jh_pairs), "ci": bootstrap_ci(units, jh_rate, **options)},
        "human_human": {**agreement(human_human_pairs(votes)), "ci": bootstrap_ci(units, hh_rate, **options)},
        "judge_human_cohen_kappa": {
            "kappa": cohen_kappa([a for a, _ in jh_pairs], [b for _, b in jh_pairs]),
            "n": len(jh_pairs),
            "ci": bootstrap_ci(units, jh_kappa, **options),
        },
        "human_fleiss_kappa": {"kappa": fleiss_kappa(table), "categories": categories, **fleiss_counts},
    }


def workflow_report(
    pairwise_rows: list[dict], votes_path, *, use_gated: bool = False, merge_both_bad: bool = True, **options
) -> dict:
    """`report` on the workflow's gated pairwise rows against a votes CSV.

    With `use_gated` false the judge's own verdicts (`outcome_ungated`) are compared with the humans;
    with it true, the verdicts after language gating.
    """
    if not use_gated:
        pairwise_rows = [{**r, "outcome": r.get("outcome_ungated", r["outcome"])} for r in pairwise_rows]
    votes = read_human_votes(votes_path, merge_both_bad)
    result = report(pairwise_rows, votes, merge_both_bad=merge_both_bad, **options)
    return {"verdicts": "gated" if use_gated else "ungated", "judge_rows": len(pairwise_rows), **result}
