"""Paired-bootstrap significance of score differences between mixtures.

Within each (model, method, dataset, lr, eval set, protocol, language), every two mixtures are
compared on the items both were scored on: items pair by (id, turn), and only pairs with a gated
score in both runs count (`n_paired`); items scored in one run only, or gated out / unparsed in
either, are counted as `unpaired`. The score is the protocol's gated score per item: `score` for
rated protocols, the headline criterion (`scores.HEADLINE_CRITERION`) of `gated_criteria` for
criteria; so the means are the table's gated means over the paired items.

Statistic: mean(a) - mean(b) over the paired items. The paired items are resampled with
replacement `n_resamples` times (numpy's `default_rng(seed)`, a fresh generator per comparison, so
a comparison's result does not depend on which others are made). The p-value is two-sided, from
the percentile distribution: twice the share of resampled differences on the other side of 0 from
the observed one (0 itself counts as the other side), capped at 1; an observed difference of 0
has p = 1. With n_resamples resamples the smallest nonzero p is 2 / n_resamples, and a p of 0
means no resample crossed 0. The interval is the percentile interval at `confidence`.
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

from polyinstruct.io import InputError, atomic_path, load_jsonl, read_json
from polyinstruct.score.scores import HEADLINE_CRITERION

GROUP = ["model", "method", "dataset", "lr", "evalset", "protocol", "lang"]
COLUMNS = [
    *GROUP,
    "mixture_a",
    "mixture_b",
    "n_paired",
    "unpaired",
    "mean_a",
    "mean_b",
    "diff",
    "ci_low",
    "ci_high",
    "p_value",
    "significant",
]
REFERENCE_KEY = "report.significance.reference"


def reference_mixture(pattern: str, lang: str) -> str:
    """The mixture `report.significance.reference` names for a language ({lang} is the only placeholder)."""
    try:
        return pattern.format(lang=lang)
    except (KeyError, IndexError, ValueError) as exc:
        raise InputError(
            f"config key '{REFERENCE_KEY}': {pattern!r} has an unknown placeholder or bad format "
            f"({exc}); the only placeholder is {{lang}}"
        ) from None


def settings(config: dict) -> dict:
    """`report.significance` checked, with the seed resolved (null = the experiment seed)."""
    s = dict(config["report"]["significance"])
    reference_mixture(s["reference"], "en")
    if s["seed"] is None:
        s["seed"] = config["seed"]
    return s


def item_score(row: dict) -> float | None:
    """The gated score of one judged item, as the protocol's gated mean averages it."""
    if row["protocol"] == "criteria":
        gated = row.get("gated_criteria")
        return None if gated is None else gated.get(HEADLINE_CRITERION)
    return row.get("score")


def item_scores(rows: list[dict]) -> dict[str, dict[tuple, float | None]]:
    """{protocol: {(id, turn): gated score}} of one run's rows."""
    out: dict[str, dict[tuple, float | None]] = {}
    for row in rows:
        key = (str(row["id"]), row.get("turn"))
        by_item = out.setdefault(row["protocol"], {})
        if key in by_item:
            raise InputError(f"item '{key[0]}' turn {key[1]} of protocol {row['protocol']} appears twice")
        by_item[key] = item_score(row)
    return out


def pair_items(a: dict[tuple, float | None], b: dict[tuple, float | None]) -> tuple[list[float], list[float], int]:
    """Scores of the items scored in both runs (in item order), and the count of the others."""
    keys = sorted(set(a) | set(b), key=lambda k: (k[0], -1 if k[1] is None else k[1]))
    xs, ys = [], []
    for key in keys:
        if a.get(key) is not None and b.get(key) is not None:
            xs.append(float(a[key]))
            ys.append(float(b[key]))
    return xs, ys, len(keys) - len(xs)


def paired_bootstrap(a: list[float], b: list[float], n_resamples: int, confidence: float, seed: int) -> dict:
    """Difference of means of paired scores, its percentile CI and two-sided bootstrap p-value."""
    import numpy as np

    if len(a) != len(b):
        raise ValueError(f"paired samples differ in length ({len(a)} vs {len(b)})")
    if not a:
        return {
            "n_paired": 0,
            "mean_a": None,
            "mean_b": None,
            "diff": None,
            "ci_low": None,
            "ci_high": None,
            "p_value": None,
        }
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    d = x - y
    observed = float(d.mean())
    rng = np.random.default_rng(seed)
    resampled = d[rng.integers(0, len(d), size=(n_resamples, len(d)))].mean(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(resampled, [tail, 1 - tail])
    if observed > 0:
        other_side = float(np.mean(resampled <= 0))
    elif observed < 0:
        other_side = float(np.mean(resampled >= 0))
    else:
        other_side = 1.0
    return {
        "n_paired": len(d),
        "mean_a": float(x.mean()),
        "mean_b": float(y.mean()),
        "diff": observed,
        "ci_low": float(low),
        "ci_high": float(high),
        "p_value": min(1.0, 2 * other_side),
    }


def load_runs(summary_paths: list[str], rows_paths: list[str]) -> list[tuple[dict, dict]]:
    """(key fields of the run, eval set and language; {protocol: {item: score}}) per summary."""
    if len(summary_paths) != len(rows_paths):
        raise ValueError(f"{len(summary_paths)} summaries but {len(rows_paths)} row files")
    out = []
    for summary_path, rows_path in zip(summary_paths, rows_paths):
        if Path(summary_path).with_suffix("") != Path(rows_path).with_suffix(""):
            raise ValueError(f"row file {rows_path} is not the sibling of summary {summary_path}")
        data = read_json(summary_path)
        key = {
            **{k: str(data["run"][k]) for k in ("model", "method", "dataset", "mixture", "lr")},
            "evalset": data["evalset"],
            "lang": data["lang"],
        }
        out.append((key, item_scores(load_jsonl(rows_path))))
    return out


def compare(runs: list[tuple[dict, dict]], n_resamples: int, confidence: float, alpha: float, seed: int) -> list[dict]:
    """Every pair of mixtures within each (model, method, dataset, lr, eval set, protocol, language)."""
    groups: dict[tuple, dict[str, dict]] = {}
    for key, by_protocol in runs:
        for protocol, scores in by_protocol.items():
            group = tuple({**key, "protocol": protocol}[k] for k in GROUP)
            groups.setdefault(group, {})[key["mixture"]] = scores
    out = []
    for group, mixtures in groups.items():
        for mixture_a, mixture_b in combinations(mixtures, 2):
            xs, ys, unpaired = pair_items(mixtures[mixture_a], mixtures[mixture_b])
            result = paired_bootstrap(xs, ys, n_resamples, confidence, seed)
            out.append(
                {
                    **dict(zip(GROUP, group)),
                    "mixture_a": mixture_a,
                    "mixture_b": mixture_b,
                    **result,
                    "unpaired": unpaired,
                    "significant": result["p_value"] is not None and result["p_value"] < alpha,
                }
            )
    return [{c: row[c] for c in COLUMNS} for row in out]


def _schema() -> dict:
    import polars as pl

    schema = {c: pl.String for c in [*GROUP, "mixture_a", "mixture_b"]}
    schema.update({"n_paired": pl.Int64, "unpaired": pl.Int64, "significant": pl.Boolean})
    schema.update({c: pl.Float64 for c in COLUMNS if c not in schema})
    return {c: schema[c] for c in COLUMNS}


def table(rows: list[dict]):
    import polars as pl

    return pl.DataFrame(rows, schema=_schema())


def write_significance(
    summary_paths: list[str],
    rows_paths: list[str],
    csv_path: str,
    n_resamples: int,
    confidence: float,
    alpha: float,
    seed: int,
) -> None:
    rows = compare(load_runs(summary_paths, rows_paths), n_resamples, confidence, alpha, seed)
    with atomic_path(csv_path) as tmp:
        table(rows).write_csv(tmp)
    print(
        f"{len(rows)} mixture comparisons, {sum(r['significant'] for r in rows)} significant at alpha={alpha} "
        f"({n_resamples} paired-bootstrap resamples, seed {seed})"
    )


def against_reference(significance, reference: str) -> dict[tuple, dict]:
    """{(model, method, dataset, lr, evalset, protocol, lang, mixture): comparison with the reference mixture}.

    The comparison is oriented as mixture minus reference; runs whose group has no reference run
    have no entry.
    """
    out = {}
    for row in significance.iter_rows(named=True):
        ref = reference_mixture(reference, row["lang"])
        key = tuple(row[k] for k in GROUP)
        if row["mixture_b"] == ref:
            out[(*key, row["mixture_a"])] = row
        elif row["mixture_a"] == ref:
            flipped = {
                **row,
                "mixture_a": row["mixture_b"],
                "mixture_b": row["mixture_a"],
                "mean_a": row["mean_b"],
                "mean_b": row["mean_a"],
                "diff": None if row["diff"] is None else -row["diff"],
                "ci_low": None if row["ci_high"] is None else -row["ci_high"],
                "ci_high": None if row["ci_low"] is None else -row["ci_low"],
            }
            out[(*key, row["mixture_b"])] = flipped
    return out


def read_table(csv_path: str | Path):
    import polars as pl

    return pl.read_csv(csv_path, schema=_schema())
