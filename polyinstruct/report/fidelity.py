"""Language fidelity: the share of answers fastText places in the prompt's language, per run and test language.

This is the quantity behind Chen et al.'s Fig. 6 (the score lost to wrong-language answers) and the first
thing the report shows: a table and a figure, each share with its Wilson score interval
(`scipy.stats.binomtest(...).proportion_ci(method="wilson")`, level `report.fidelity.confidence`), and,
per test language, every mixture compared with the reference mixture (default: English-only,
`mono-<source_language>`) on the same prompts by an exact McNemar test (a two-sided binomial test on
the prompts where exactly one of the two runs answered in the right language).

An answer counts as in the prompt's language when every turn's response is (the language-ID rows'
`correct`); an empty response counts as wrong.
"""

from __future__ import annotations

from pathlib import Path

from polyinstruct.io import atomic_path, load_jsonl, write_text
from polyinstruct.report.plotting import BASE_COLOUR, legend_outside, mixture_colours, no_data, pyplot, save
from polyinstruct.workflow.paths import RUN_KEYS, Run

#: The HTML report's category of these outputs; categories sort by name, so this one opens the report.
CATEGORY = "1. Language fidelity"
COLUMNS = [*RUN_KEYS, "evalset", "lang", "n", "correct", "share", "ci_low", "ci_high"]
COMPARISON_COLUMNS = [
    "model",
    "method",
    "dataset",
    "lr",
    "evalset",
    "lang",
    "mixture",
    "reference",
    "n_paired",
    "share",
    "reference_share",
    "diff",
    "only_mixture",
    "only_reference",
    "p_value",
]


def settings(config: dict) -> dict:
    """`report.fidelity` with the reference resolved (null = mono-<source_language>, the English-only run)."""
    f = config["report"]["fidelity"]
    return {"confidence": f["confidence"], "reference": f["reference"] or f"mono-{config['source_language']}"}


def parse_langid_path(path: str | Path) -> dict[str, str]:
    """Run keys, eval set and language of a language-ID file `.../{model}/{method}/{dataset}/{mixture}/{lr}/
    {evalset}/{lang}.jsonl`."""
    parts = Path(path).parts
    if len(parts) < 7 or not parts[-1].endswith(".jsonl"):
        raise ValueError(f"{path}: not a language-ID file of a run (…/<run>/<evalset>/<lang>.jsonl)")
    *_, model, method, dataset, mixture, lr, evalset, leaf = parts
    return {
        "model": model,
        "method": method,
        "dataset": dataset,
        "mixture": mixture,
        "lr": lr,
        "evalset": evalset,
        "lang": leaf[: -len(".jsonl")],
    }


def wilson(correct: int, n: int, confidence: float) -> tuple[float | None, float | None]:
    """Wilson score interval of a binomial share (None when there is nothing to estimate)."""
    if n == 0:
        return None, None
    from scipy.stats import binomtest

    ci = binomtest(correct, n).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts (1.0 when there are none)."""
    if only_a + only_b == 0:
        return 1.0
    from scipy.stats import binomtest

    return float(binomtest(only_a, only_a + only_b, 0.5).pvalue)


def load(langid_paths: list[str]) -> dict[tuple, dict[str, bool]]:
    """{(model, method, dataset, mixture, lr, evalset, lang): {item id: answered in the prompt's language}}."""
    out = {}
    for path in langid_paths:
        keys = parse_langid_path(path)
        out[tuple(keys[k] for k in (*RUN_KEYS, "evalset", "lang"))] = {
            str(r["id"]): bool(r["correct"]) for r in load_jsonl(path)
        }
    return out


def table_rows(data: dict[tuple, dict[str, bool]], confidence: float) -> list[dict]:
    rows = []
    for key, items in data.items():
        n, correct = len(items), sum(items.values())
        low, high = wilson(correct, n, confidence)
        rows.append(
            {
                **dict(zip((*RUN_KEYS, "evalset", "lang"), key)),
                "n": n,
                "correct": correct,
                "share": correct / n if n else None,
                "ci_low": low,
                "ci_high": high,
            }
        )
    return sorted(rows, key=_order)


def _order(row: dict) -> tuple:
    return (
        row["evalset"],
        row["model"],
        row["method"] != "base",
        row["method"],
        row["dataset"],
        row["lr"],
        _mixture_rank(row["mixture"]),
        row["mixture"],
        row["lang"],
    )


def _mixture_rank(mixture: str) -> int:
    """Base model, English-only and monolingual runs first, then the mixtures of several languages."""
    return 0 if mixture == "none" else 1 if mixture.startswith("mono-") else 2


def comparisons(data: dict[tuple, dict[str, bool]], reference: str) -> list[dict]:
    """Every tuned mixture against `reference` of the same model, method, dataset and lr, per eval set and
    test language, on the prompts both answered (exact McNemar)."""
    index = {k[:3] + k[4:]: {} for k in data}
    for k, items in data.items():
        index[k[:3] + k[4:]][k[3]] = items
    rows = []
    for (model, method, dataset, lr, evalset, lang), by_mixture in index.items():
        ref = by_mixture.get(reference)
        if method == "base" or ref is None:
            continue
        for mixture, items in by_mixture.items():
            if mixture == reference:
                continue
            shared = sorted(set(items) & set(ref))
            only_mixture = sum(items[i] and not ref[i] for i in shared)
            only_reference = sum(ref[i] and not items[i] for i in shared)
            share = sum(items[i] for i in shared) / len(shared) if shared else None
            ref_share = sum(ref[i] for i in shared) / len(shared) if shared else None
            rows.append(
                {
                    "model": model,
                    "method": method,
                    "dataset": dataset,
                    "lr": lr,
                    "evalset": evalset,
                    "lang": lang,
                    "mixture": mixture,
                    "reference": reference,
                    "n_paired": len(shared),
                    "share": share,
                    "reference_share": ref_share,
                    "diff": None if share is None else share - ref_share,
                    "only_mixture": only_mixture,
                    "only_reference": only_reference,
                    "p_value": mcnemar_exact(only_mixture, only_reference),
                }
            )
    return sorted(rows, key=lambda r: (r["evalset"], r["model"], r["method"], r["lang"], _mixture_rank(r["mixture"])))


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def markdown(
    rows: list[dict],
    compared: list[dict],
    title: str,
    confidence: float,
    reference: str,
    langs: list[str] | None = None,
) -> str:
    """Per eval set a runs x test languages table (languages in `langs` order, else as they come)."""
    level = f"{confidence:.0%}"
    out = [
        f"# {title}: language fidelity",
        "",
        "Share of answers that fastText language ID places in the prompt's language (every turn), per run and "
        f"test language, with its {level} Wilson score interval and the count. A run that answers a French "
        "prompt in English scores 0 under Chen et al.'s gating, so this share bounds every gated judge score.",
        "",
    ]
    for evalset in dict.fromkeys(r["evalset"] for r in rows):
        part = [r for r in rows if r["evalset"] == evalset]
        here = {r["lang"] for r in part}
        columns = [lang for lang in langs or [] if lang in here] + sorted(here - set(langs or []))
        out += [f"## {evalset}", "", "| run | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
        runs = list(dict.fromkeys(tuple(r[k] for k in RUN_KEYS) for r in part))
        for run in runs:
            cells = {r["lang"]: r for r in part if tuple(r[k] for k in RUN_KEYS) == run}
            values = [
                f"{_pct(c['share'])} [{_pct(c['ci_low'])}, {_pct(c['ci_high'])}] ({c['correct']}/{c['n']})"
                if (c := cells.get(lang))
                else "–"
                for lang in columns
            ]
            out.append(f"| {Run(*run).label} | " + " | ".join(values) + " |")
        out.append("")
    if compared:
        out += [
            f"## Against {reference} (same prompts, exact McNemar test)",
            "",
            "Each mixture against the reference mixture of the same model, method, dataset and lr, on the prompts "
            "both answered: the difference of the shares, the prompts only one of the two answered in the right "
            "language, and the two-sided exact McNemar p-value.",
            "",
            "| eval set | model | lang | mixture | n | share | reference | diff | only mixture | only reference | p |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for c in compared:
            diff = "–" if c["diff"] is None else f"{100 * c['diff']:+.0f} pts"
            out.append(
                f"| {c['evalset']} | {c['model']} {c['method']} | {c['lang']} | {c['mixture']} | {c['n_paired']} | "
                f"{_pct(c['share'])} | {_pct(c['reference_share'])} | {diff} | {c['only_mixture']} | "
                f"{c['only_reference']} | {c['p_value']:.3g} |"
            )
        out.append("")
    return "\n".join(out)


def figure(rows: list[dict], path: str | Path, title: str, confidence: float, langs: list[str] | None = None) -> None:
    """Share in the prompt's language with Wilson intervals: one panel per (eval set, model, method), test
    languages on x, one marker per mixture (base model black), dodged so the intervals do not overlap."""
    plt = pyplot()
    panels = list(
        dict.fromkeys((r["evalset"], r["model"], r["method"] if r["method"] != "base" else None) for r in rows)
    )
    panels = [p for p in panels if p[2] is not None] or panels
    colours = mixture_colours({r["mixture"] for r in rows})
    ncols = min(max(1, len(panels)), 2)
    nrows = max(1, -(-len(panels) // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(6.0 * ncols, 3.6 * nrows), squeeze=False)
    flat = list(axes.flat)
    if not rows:
        no_data(flat[0], "no language-ID results")
    for ax, (evalset, model, method) in zip(flat, panels):
        part = [
            r
            for r in rows
            if r["evalset"] == evalset and r["model"] == model and (r["method"] in (method, "base") or method is None)
        ]
        present = {r["lang"] for r in part}
        shown = [lang for lang in langs or [] if lang in present] + sorted(present - set(langs or []))
        mixtures = list(dict.fromkeys(r["mixture"] for r in sorted(part, key=_order)))
        width = 0.8 / max(1, len(mixtures))
        for j, mixture in enumerate(mixtures):
            points = {r["lang"]: r for r in part if r["mixture"] == mixture}
            xs, ys, low, high = [], [], [], []
            for i, lang in enumerate(shown):
                r = points.get(lang)
                if r is None or r["share"] is None:
                    continue
                xs.append(i - 0.4 + width * (j + 0.5))
                ys.append(r["share"])
                low.append(r["share"] - r["ci_low"])
                high.append(r["ci_high"] - r["share"])
            ax.errorbar(
                xs,
                ys,
                yerr=[low, high],
                fmt="s" if mixture == "none" else "o",
                markersize=4,
                capsize=2,
                linewidth=1,
                color=colours.get(mixture, BASE_COLOUR),
                label="base model" if mixture == "none" else mixture,
            )
        ax.set_xticks(range(len(shown)), shown)
        ax.set_ylim(-0.02, 1.05)
        ax.set_ylabel("answers in the prompt's language", fontsize=8)
        ax.set_xlabel("test language", fontsize=8)
        name = f"{model} {method}" if method else model
        ax.set_title(name if len({p[0] for p in panels}) == 1 else f"{name} — {evalset}", fontsize=9)
        ax.grid(alpha=0.3, axis="y")
        ax.tick_params(labelsize=7)
    for ax in flat[len(panels) :]:
        ax.set_axis_off()
    legend_outside(fig, flat)
    save(fig, path, f"{title}: language fidelity ({confidence:.0%} Wilson intervals)")


def write_report(
    langid_paths: list[str],
    csv_path: str,
    md_path: str,
    png_path: str,
    comparison_csv: str,
    title: str,
    confidence: float,
    reference: str,
) -> None:
    import polars as pl

    data = load(langid_paths)
    rows = table_rows(data, confidence)
    compared = comparisons(data, reference)
    schema = {c: pl.String for c in [*RUN_KEYS, "evalset", "lang"]}
    schema.update(
        {"n": pl.Int64, "correct": pl.Int64, "share": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64}
    )
    with atomic_path(csv_path) as tmp:
        pl.DataFrame(rows, schema=schema).select(COLUMNS).write_csv(tmp)
    cschema = {c: pl.String for c in COMPARISON_COLUMNS}
    cschema.update({c: pl.Int64 for c in ("n_paired", "only_mixture", "only_reference")})
    cschema.update({c: pl.Float64 for c in ("share", "reference_share", "diff", "p_value")})
    with atomic_path(comparison_csv) as tmp:
        pl.DataFrame(compared, schema=cschema).select(COMPARISON_COLUMNS).write_csv(tmp)
    langs = list(dict.fromkeys(key[-1] for key in data))  # the workflow lists files in eval-language order
    write_text(md_path, markdown(rows, compared, title, confidence, reference, langs))
    figure(rows, png_path, title, confidence, langs)
    print(f"language fidelity: {len(rows)} (run, eval set, language) shares, {len(compared)} comparisons")
