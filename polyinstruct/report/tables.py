"""Experiment tables (CSV, Markdown) and figures from the score, pairwise, agreement and surface summaries.

Every judge score is shown gated (after language ID) beside its ungated value, with the parse
failures that were left out of the mean; judge calls, cache hits and estimated cost come from each
judging job's calls file; prompts cut to fit `generate.max_prompt_length` come from each generation
job's stats file; a second gating (`score.gating.extra_mode`) is an extra column.
"""

from __future__ import annotations

from pathlib import Path

from polyinstruct.io import atomic_path, read_json, write_text
from polyinstruct.report.plotting import (
    BASE_COLOUR,
    legend_outside,
    mixture_colours,
    no_data,
    pyplot,
    save,
    series_label,
)
from polyinstruct.workflow.paths import RUN_KEYS, Run, labels

RUN = list(RUN_KEYS)
COLUMNS = [
    *RUN,
    "evalset",
    "lang",
    "protocol",
    "gating",
    "n",
    "lang_correct_rate",
    "ungated_mean",
    "gated_mean",
    "drop",
    "gated_sum",
    "extra_gating",
    "extra_gated_mean",
    "truncated_prompts",
    "parse_failures",
    "gated_out",
    "wrong_language",
    "calls",
    "cache_hits",
    "failed_calls",
    "prompt_tokens",
    "completion_tokens",
    "cost",
]
FLOATS = ("lang_correct_rate", "ungated_mean", "gated_mean", "drop", "gated_sum", "extra_gated_mean", "cost")


def _run_key(run: dict) -> str:
    return "/".join(str(run[k]) for k in RUN)


def _calls_by_job(calls_paths: list[str]) -> dict[tuple, dict]:
    out = {}
    for path in calls_paths:
        data = read_json(path)
        out[(data.get("protocol"), data.get("run"), data.get("evalset"), data.get("lang"))] = data
    return out


def _truncated_by_job(stats_paths: list[str]) -> dict[tuple, int]:
    """{(run, eval set, language): prompts cut to fit generate.max_prompt_length} from generation stats."""
    out = {}
    for path in stats_paths:
        data = read_json(path)
        if "evalset" in data:
            out[(_run_key(data["run"]), data["evalset"], data["lang"])] = data.get("truncated_prompts", 0)
    return out


def load_table(summary_paths: list[str], calls_paths: list[str] | None = None, stats_paths: list[str] | None = None):
    """One row per (run, eval set, language, protocol)."""
    import polars as pl

    calls = _calls_by_job(calls_paths or [])
    truncated = _truncated_by_job(stats_paths or [])
    rows = []
    for path in summary_paths:
        data = read_json(path)
        summary = data["summary"]
        for protocol, s in summary["protocols"].items():
            job = calls.get((protocol, _run_key(data["run"]), data["evalset"], data["lang"]), {})
            extra = s.get("extra_gating") or {}
            rows.append(
                {
                    **{k: str(data["run"][k]) for k in RUN},
                    "evalset": data["evalset"],
                    "lang": data["lang"],
                    "protocol": protocol,
                    "gating": s["gating"],
                    "n": s["n"],
                    "lang_correct_rate": summary["lang_correct_rate"],
                    **{
                        k: s.get(k)
                        for k in (
                            "ungated_mean",
                            "gated_mean",
                            "drop",
                            "gated_sum",
                            "parse_failures",
                            "gated_out",
                            "wrong_language",
                        )
                    },
                    "extra_gating": extra.get("mode"),
                    "extra_gated_mean": extra.get("gated_mean"),
                    "truncated_prompts": truncated.get((_run_key(data["run"]), data["evalset"], data["lang"])),
                    **{
                        k: job.get(k)
                        for k in ("calls", "cache_hits", "failed_calls", "prompt_tokens", "completion_tokens", "cost")
                    },
                }
            )
    schema = {c: pl.String for c in [*RUN, "evalset", "lang", "protocol", "gating", "extra_gating"]}
    schema.update({c: pl.Float64 for c in FLOATS})
    schema.update({c: pl.Int64 for c in COLUMNS if c not in schema})
    return pl.DataFrame(rows, schema=schema).select(COLUMNS).sort(["evalset", "protocol", *RUN, "lang"])


def scale_of(protocol: str | None) -> tuple[int, int]:
    """Axis range of a protocol's scores (protocols.REGISTRY); (0, 10) when unknown."""
    from polyinstruct.score.judge import protocols

    return protocols.REGISTRY[protocol].scale if protocol in protocols.REGISTRY else (0, 10)


def row_run(row: dict) -> Run:
    return Run(*(str(row[k]) for k in RUN_KEYS))


def run_labeller(rows):
    """A function row -> the label of its run, the dataset added where labels collide (`paths.labels`)."""
    found = labels(row_run(r) for r in rows)
    return lambda row: found[row_run(row)]


def _fmt(value) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


HIGHER, LOWER, SAME, REFERENCE = "▲", "▼", "·", "ref"


def significance_marks(significance, reference: str) -> dict[tuple, str]:
    """{(model, method, dataset, lr, evalset, protocol, lang, mixture): marker} against the reference mixture.

    ▲/▼: significantly higher/lower than the reference; ·: not significant; ref: the reference run
    itself. Runs without a reference run in their group, or without paired items, get no entry.
    """
    from polyinstruct.report.significance import against_reference

    marks = {}
    for key, row in against_reference(significance, reference).items():
        if row["p_value"] is None:
            continue
        marks[key] = (HIGHER if row["diff"] > 0 else LOWER) if row["significant"] else SAME
        marks[(*key[:-1], row["mixture_b"])] = REFERENCE
    return marks


def significance_legend(reference: str, alpha: float, n_resamples: int) -> str:
    return (
        f"Markers: {HIGHER}/{LOWER} the mixture's gated score is significantly higher/lower than the reference "
        f"mixture `{reference}` ({{lang}} = the column's language) of the same model, method, dataset and lr; "
        f"{SAME} not significant; {REFERENCE} the reference itself; no marker: no reference run to compare with. "
        f"Paired bootstrap over the items both runs scored ({n_resamples} resamples, two-sided p < {alpha}; "
        "all pairs in significance.csv)."
    )


def markdown(table, title: str, marks: dict[tuple, str] | None = None, legend: str | None = None) -> str:
    """Per protocol and eval set: gated score (ungated in brackets) per language, parse failures, calls.

    `marks` (from `significance_marks`) adds a marker to each cell compared with the reference mixture,
    explained by `legend`.
    """
    import polars as pl

    marks = marks or {}
    out = [
        f"# {title}",
        "",
        "Cells: mean judge score after language gating and, in brackets, before it (the judge's own "
        "rating). Gating mode per protocol is named in each heading (multiply: a wrong-language answer "
        "scores 0; exclude: it leaves the mean). Judge answers that did not parse are excluded from the "
        "means and counted under *parse failures*; *calls* are judge calls made by the last run "
        "(cache hits cost none); *truncated* counts prompts the generator cut to fit "
        "generate.max_prompt_length (their start dropped; turn-2 prompts carry the first turn).",
        "",
    ]
    if legend:
        out += [legend, ""]
    for (protocol, evalset), part in table.group_by(["protocol", "evalset"], maintain_order=True):
        langs = part["lang"].unique(maintain_order=True).to_list()
        gating_mode = part["gating"][0]
        out += [
            f"## {protocol} — {evalset} (gating: {gating_mode})",
            "",
            "| run | " + " | ".join(langs) + " | drop | parse failures | gated out | truncated | calls | cache hits |",
            "|---|" + "---|" * (len(langs) + 6),
        ]
        run_label = run_labeller(part.iter_rows(named=True))
        for _, group in part.group_by(RUN, maintain_order=True):
            cells = {r["lang"]: r for r in group.iter_rows(named=True)}
            first = next(iter(cells.values()))
            values = [
                f"{_fmt(cells[ln]['gated_mean'])} ({_fmt(cells[ln]['ungated_mean'])})" + _mark(marks, cells[ln])
                if ln in cells
                else "–"
                for ln in langs
            ]
            drops = [d for d in group["drop"].to_list() if d is not None]
            out.append(
                f"| {run_label(first)} | "
                + " | ".join(values)
                + f" | {_fmt(sum(drops) / len(drops) if drops else None)}"
                + f" | {group['parse_failures'].sum()} | {group['gated_out'].sum()}"
                + f" | {group['truncated_prompts'].sum()}"
                + f" | {group['calls'].sum()} | {group['cache_hits'].sum()} |"
            )
        out.append("")
        out += _extra_gating_section(part, protocol, evalset, langs)
    totals = table.select(
        pl.col("calls").sum(),
        pl.col("cache_hits").sum(),
        pl.col("prompt_tokens").sum(),
        pl.col("completion_tokens").sum(),
        pl.col("cost").sum(),
    ).row(0, named=True)
    out += [
        "## Judge calls (last run)",
        "",
        f"{totals['calls']} calls, {totals['cache_hits']} cache hits, {totals['prompt_tokens']} prompt and "
        f"{totals['completion_tokens']} completion tokens, estimated cost {_fmt(totals['cost'])}.",
        "",
    ]
    return "\n".join(out)


def _extra_gating_section(part, protocol: str, evalset: str, langs: list[str]) -> list[str]:
    """The extra gating's means per language (score.gating.extra_mode), when there is one."""
    modes = [m for m in part["extra_gating"].unique().to_list() if m is not None]
    if not modes:
        return []
    out = [
        f"### {protocol} — {evalset}, gated by {modes[0]} (score.gating.extra_mode)",
        "",
        "| run | " + " | ".join(langs) + " |",
        "|---|" + "---|" * len(langs),
    ]
    run_label = run_labeller(part.iter_rows(named=True))
    for _, group in part.group_by(RUN, maintain_order=True):
        cells = {r["lang"]: r for r in group.iter_rows(named=True)}
        first = next(iter(cells.values()))
        values = [_fmt(cells[ln]["extra_gated_mean"]) if ln in cells else "–" for ln in langs]
        out.append(f"| {run_label(first)} | " + " | ".join(values) + " |")
    return [*out, ""]


def _mark(marks: dict[tuple, str], row: dict) -> str:
    mark = marks.get(
        tuple(row[k] for k in ("model", "method", "dataset", "lr", "evalset", "protocol", "lang", "mixture"))
    )
    return f" {mark}" if mark else ""


def figure(table, path: str | Path, title: str, protocol: str | None = None) -> None:
    """Gated score per test language of one protocol (default: the first), one line per training
    configuration coloured by mixture (base model dashed black), one panel per (eval set, model)."""
    import polars as pl

    plt = pyplot()
    protocol = protocol or (table["protocol"][0] if table.height else "chen_single")
    part_all = table.filter(pl.col("protocol") == protocol)
    panels = part_all.select("evalset", "model").unique(maintain_order=True).rows() or [("-", "-")]
    colours = mixture_colours(table["mixture"].unique().to_list())
    show_dataset = part_all.filter(pl.col("method") != "base")["dataset"].n_unique() > 1
    show_lr = part_all.filter(pl.col("method") != "base")["lr"].n_unique() > 1
    langs = part_all["lang"].unique(maintain_order=True).to_list()
    ncols = min(len(panels), 3)
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.5 * ncols, 3.4 * nrows), squeeze=False)
    flat = list(axes.flat)
    for ax, (evalset, model) in zip(flat, panels):
        part = part_all.filter((pl.col("evalset") == evalset) & (pl.col("model") == model))
        if part.is_empty():
            no_data(ax, f"no {protocol} scores")
            continue
        for (method, dataset, mixture, lr), group in part.group_by(
            ["method", "dataset", "mixture", "lr"], maintain_order=True
        ):
            by_lang = {r["lang"]: r["gated_mean"] for r in group.iter_rows(named=True)}
            ys = [float("nan") if by_lang.get(ln) is None else by_lang[ln] for ln in langs]
            base = method == "base"
            ax.plot(
                langs,
                ys,
                marker="o",
                markersize=4,
                linewidth=1.2,
                linestyle="--" if base else "-",
                color=colours.get(mixture, BASE_COLOUR),
                label=series_label(method, dataset, mixture, lr, show_dataset=show_dataset, show_lr=show_lr),
            )
        low, high = scale_of(protocol)
        ax.set_title(model if part_all["evalset"].n_unique() == 1 else f"{model} — {evalset}", fontsize=9)
        ax.set_xlabel("test language", fontsize=8)
        ax.set_ylabel(f"{protocol}, gated mean", fontsize=8)
        ax.set_ylim(low, high + 0.05 * (high - low))
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in flat[len(panels) :]:
        ax.set_axis_off()
    legend_outside(fig, flat)
    save(fig, path, f"{title}: {protocol} score per test language")


def gating_figure(table, path: str | Path, title: str) -> None:
    """Ungated vs gated mean per run (over languages), one panel per protocol: the drop gating causes."""
    import polars as pl

    plt = pyplot()
    protocols = table["protocol"].unique(maintain_order=True).to_list() or ["-"]
    runs = table.select(RUN).unique().height
    fig, axes = plt.subplots(
        len(protocols), 1, figsize=(min(40.0, max(5.0, 0.35 * runs + 2)), 3.6 * len(protocols)), squeeze=False
    )
    for ax, protocol in zip(axes[:, 0], protocols):
        part = (
            table.filter(pl.col("protocol") == protocol)
            .group_by(RUN, maintain_order=True)
            .agg(pl.col("ungated_mean").mean(), pl.col("gated_mean").mean())
        )
        run_label = run_labeller(part.iter_rows(named=True))
        labels = [run_label(r) for r in part.iter_rows(named=True)]
        xs = list(range(len(labels)))
        ax.bar([x - 0.2 for x in xs], [v if v is not None else 0 for v in part["ungated_mean"]], 0.4, label="ungated")
        ax.bar([x + 0.2 for x in xs], [v if v is not None else 0 for v in part["gated_mean"]], 0.4, label="gated")
        ax.set_xticks(
            xs, labels, rotation=60 if len(labels) > 8 else 30, ha="right", fontsize=7 if len(labels) <= 40 else 5
        )
        ax.set_title(f"{protocol} (mean over test languages)", fontsize=9)
        ax.set_ylabel("mean score", fontsize=8)
        ax.set_xlim(-0.6, len(labels) - 0.4)
        ax.tick_params(axis="y", labelsize=7)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        ax.grid(alpha=0.3, axis="y")
    save(fig, path, f"{title}: score before and after language gating")


def write_report(
    summary_paths: list[str],
    calls_paths: list[str],
    csv_path: str,
    md_path: str,
    png_path: str,
    gating_png: str,
    title: str,
    significance_csv: str | None = None,
    significance_settings: dict | None = None,
    protocol: str | None = None,
    stats_paths: list[str] | None = None,
) -> None:
    """Scores CSV and Markdown (with markers against the reference mixture when `significance_csv` is
    given, `significance_settings` being `report.significance`), the per-language and gating figures.
    `stats_paths` (generation stats files) give the truncated-prompt counts."""
    table = load_table(summary_paths, calls_paths, stats_paths)
    with atomic_path(csv_path) as tmp:
        table.write_csv(tmp)
    marks, legend = {}, None
    if significance_csv is not None:
        from polyinstruct.report.significance import read_table

        s = significance_settings or {}
        marks = significance_marks(read_table(significance_csv), s["reference"])
        legend = significance_legend(s["reference"], s["alpha"], s["n_resamples"])
    write_text(md_path, markdown(table, title, marks, legend))
    figure(table, png_path, title, protocol)
    gating_figure(table, gating_png, title)


# ---- pairwise ------------------------------------------------------------------------------------

PAIR_COLUMNS = [
    "first",
    "second",
    "evalset",
    "lang",
    "category",
    "verdicts",
    "n",
    "decided",
    "win_rate",
    "tie_rate",
    "loss_rate",
    "both_bad_rate",
    "inconsistent_rate",
    "position_flip_rate",
    "position_flips",
    "parse_failures",
    "gated_out",
]


def pairwise_table(summary_paths: list[str]):
    import polars as pl

    rows = []
    for path in summary_paths:
        data = read_json(path)
        for verdicts in ("gated", "ungated"):
            for category, s in data["summary"][verdicts].items():
                rows.append(
                    {
                        "first": data["first"],
                        "second": data["second"],
                        "evalset": data["evalset"],
                        "lang": data["lang"],
                        "category": category,
                        "verdicts": verdicts,
                        **{k: s.get(k) for k in PAIR_COLUMNS[6:]},
                    }
                )
    schema = {c: pl.String for c in PAIR_COLUMNS[:6]}
    schema.update({c: pl.Int64 for c in ("n", "decided", "position_flips", "parse_failures", "gated_out")})
    schema.update({c: pl.Float64 for c in PAIR_COLUMNS if c not in schema})
    return pl.DataFrame(rows, schema=schema).select(PAIR_COLUMNS)


def pairwise_markdown(table, title: str) -> str:
    import polars as pl

    out = [
        f"# {title}: pairwise comparisons",
        "",
        "Each (question, turn) is judged twice with the answers swapped. Rates are for the first run "
        "against the second over decided pairs; *position flips* are pairs where the judge picked the same "
        "slot in both orders (its verdict followed the position), as a share of pairs whose two verdicts "
        "parsed. Gated verdicts apply language ID (a right-language answer beats a wrong-language one).",
        "",
    ]
    gated = table.filter(pl.col("verdicts") == "gated")
    for (first, second, evalset, lang), part in gated.group_by(
        ["first", "second", "evalset", "lang"], maintain_order=True
    ):
        ungated = table.filter(
            (pl.col("verdicts") == "ungated")
            & (pl.col("first") == first)
            & (pl.col("second") == second)
            & (pl.col("evalset") == evalset)
            & (pl.col("lang") == lang)
        )
        before = {r["category"]: r for r in ungated.iter_rows(named=True)}
        out += [
            f"## {first} vs {second} — {evalset}/{lang}",
            "",
            "| category | n | win | tie | loss | win (ungated) | position flips | inconsistent | parse failures |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in part.iter_rows(named=True):
            out.append(
                f"| {r['category']} | {r['n']} | {_fmt(r['win_rate'])} | {_fmt(r['tie_rate'])} | "
                f"{_fmt(r['loss_rate'])} | {_fmt(before.get(r['category'], {}).get('win_rate'))} | "
                f"{_fmt(r['position_flip_rate'])} ({r['position_flips']}) | {_fmt(r['inconsistent_rate'])} | "
                f"{r['parse_failures']} |"
            )
        out.append("")
    return "\n".join(out)


def position_bias_figure(table, path: str | Path, title: str) -> None:
    """Share of position-flipped verdicts per category, one bar series per comparison."""
    import polars as pl

    plt = pyplot()
    part = table.filter(pl.col("verdicts") == "ungated")
    categories = [c for c in part["category"].unique(maintain_order=True).to_list() if c != "all"] + ["all"]
    series = part.group_by(["first", "second", "evalset", "lang"], maintain_order=True)
    groups = list(series)
    fig, ax = plt.subplots(figsize=(max(5.0, 0.9 * len(categories) * max(1, len(groups)) / 2 + 3), 4))
    width = 0.8 / max(1, len(groups))
    for i, ((first, second, _evalset, lang), group) in enumerate(groups):
        by_cat = {r["category"]: r["position_flip_rate"] for r in group.iter_rows(named=True)}
        ax.bar(
            [x + i * width for x in range(len(categories))],
            [by_cat.get(c) or 0.0 for c in categories],
            width,
            label=f"{first} vs {second} ({lang})",
        )
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(categories))], categories, rotation=30, ha="right")
    ax.set_ylabel("position-flipped verdicts (share)")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=6)
    ax.grid(alpha=0.3, axis="y")
    save(fig, path, f"{title}: position bias")


def write_pairwise(summary_paths: list[str], csv_path: str, md_path: str, png_path: str, title: str) -> None:
    table = pairwise_table(summary_paths)
    with atomic_path(csv_path) as tmp:
        table.write_csv(tmp)
    write_text(md_path, pairwise_markdown(table, title))
    position_bias_figure(table, png_path, title)


# ---- agreement -----------------------------------------------------------------------------------


def agreement_rows(paths: list[str]) -> list[dict]:
    rows = []
    for path in paths:
        data = read_json(path)
        base = {
            "evalset": data["evalset"],
            "lang": data["lang"],
            "votes": data["votes"],
            "questions": data["questions"],
            "annotators": data["annotators"],
            "verdicts": data["verdicts"],
        }
        for name, entry, value in (
            ("judge-human agreement", data["judge_human"], data["judge_human"]["with_ties"]["agreement"]),
            ("human-human agreement", data["human_human"], data["human_human"]["with_ties"]["agreement"]),
            ("judge-human Cohen's kappa", data["judge_human_cohen_kappa"], data["judge_human_cohen_kappa"]["kappa"]),
        ):
            rows.append(
                {
                    **base,
                    "statistic": name,
                    "value": value,
                    "ci_low": entry["ci"]["low"],
                    "ci_high": entry["ci"]["high"],
                    "n": entry.get("n", entry.get("with_ties", {}).get("n")),
                }
            )
        fleiss = data["human_fleiss_kappa"]
        rows.append(
            {
                **base,
                "statistic": "human Fleiss' kappa",
                "value": fleiss["kappa"],
                "ci_low": None,
                "ci_high": None,
                "n": fleiss["items"],
            }
        )
    return rows


def write_agreement(
    paths: list[str], csv_path: str, md_path: str, png_path: str, title: str, confidence: float
) -> None:
    import polars as pl

    rows = agreement_rows(paths)
    schema = {
        "evalset": pl.String,
        "lang": pl.String,
        "votes": pl.Int64,
        "questions": pl.Int64,
        "annotators": pl.Int64,
        "verdicts": pl.String,
        "statistic": pl.String,
        "value": pl.Float64,
        "ci_low": pl.Float64,
        "ci_high": pl.Float64,
        "n": pl.Int64,
    }
    table = pl.DataFrame(rows, schema=schema)
    with atomic_path(csv_path) as tmp:
        table.write_csv(tmp)
    level = f"{confidence:.0%}"
    out = [
        f"# {title}: agreement with human votes",
        "",
        f"Agreement with ties (the chance two votes on a question agree), Cohen's kappa (judge vs each "
        f"human vote) and Fleiss' kappa among humans; {level} percentile-bootstrap intervals over questions.",
        "",
        "| eval set | lang | statistic | value | CI | n | votes | annotators |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ci = f"[{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}]" if r["ci_low"] is not None else "–"
        out.append(
            f"| {r['evalset']} | {r['lang']} | {r['statistic']} | {_fmt(r['value'])} | {ci} | {r['n']} | "
            f"{r['votes']} | {r['annotators']} |"
        )
    write_text(md_path, "\n".join(out) + "\n")
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    shown = [r for r in rows if r["value"] is not None]
    for i, r in enumerate(shown):
        err = [[r["value"] - r["ci_low"]], [r["ci_high"] - r["value"]]] if r["ci_low"] is not None else None
        ax.errorbar([i], [r["value"]], yerr=err, fmt="o", capsize=4)
    ax.set_xticks(
        range(len(shown)),
        [f"{r['statistic']}\n{r['evalset']}/{r['lang']}" for r in shown],
        rotation=30,
        ha="right",
        fontsize=7,
    )
    ax.axhline(0, color="grey", linewidth=0.5)
    ax.set_ylabel(f"value ({level} CI)")
    save(fig, png_path, f"{title}: agreement")


# ---- surface metrics -----------------------------------------------------------------------------


def write_surface(surface_paths: list[str], summary_paths: list[str], csv_path: str, md_path: str, title: str) -> None:
    """Language-ID correctness, spelling, relevance (judge protocol) and modifier fulfilment per run."""
    import polars as pl

    rows: dict[tuple, dict] = {}
    for path in summary_paths:
        data = read_json(path)
        key = (_run_key(data["run"]), data["evalset"], data["lang"])
        relevance = data["summary"]["protocols"].get("relevance", {})
        rows[key] = {
            "run": key[0],
            "evalset": key[1],
            "lang": key[2],
            "lang_correct_rate": data["summary"]["lang_correct_rate"],
            "relevance": relevance.get("ungated_mean"),
            "relevance_parse_failures": relevance.get("parse_failures"),
        }
    for path in surface_paths:
        data = read_json(path)
        key = (_run_key(data["run"]), data["evalset"], data["lang"])
        s = data["summary"]
        row = rows.setdefault(
            key, {"run": key[0], "evalset": key[1], "lang": key[2], "lang_correct_rate": s["lang_correct_rate"]}
        )
        row["spelling"] = (s["spelling"] or {}).get("mean_spelling")
        row["spelling_no_words"] = (s["spelling"] or {}).get("no_words")
        for name, m in (s["modifiers"] or {}).items():
            row[f"modifier_{name}"] = m["rate"]
            row[f"modifier_{name}_checked"] = m["checked"]
    table = pl.DataFrame(list(rows.values()), infer_schema_length=None)
    with atomic_path(csv_path) as tmp:
        table.write_csv(tmp)
    columns = [c for c in table.columns if c not in ("run", "evalset", "lang") and not c.endswith("_checked")]
    out = [
        f"# {title}: surface metrics",
        "",
        "Language-ID correctness (share of responses in the prompt's language), share of words passing "
        "Hunspell, relevance 0/1 answered by a chat model (unparsed answers counted), and for task-modifier "
        "items the share of rule-checkable modifiers fulfilled.",
        "",
        "| run | eval set | lang | " + " | ".join(columns) + " |",
        "|---|---|---|" + "---|" * len(columns),
    ]
    for r in table.iter_rows(named=True):
        out.append(f"| {r['run']} | {r['evalset']} | {r['lang']} | " + " | ".join(_fmt(r[c]) for c in columns) + " |")
    write_text(md_path, "\n".join(out) + "\n")
