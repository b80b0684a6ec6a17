"""Paper-style figures from the per-(run, eval set, language) score summaries.

- score vs model size (Chen et al., Fig. 2): one panel per test language, x = parameter count
  (`models.<name>.parameters`, log scale), y = gated mean of the headline protocol, one line per
  training configuration coloured by mixture, the base models dashed;
- per-category radar (Weber et al.): gated mean per question category, one polar panel per
  (protocol, eval set, model) and test language, one polygon per run;
- criteria heatmap (Chirkova & Nikoulina): gated mean of each criterion (rows) per run (columns),
  one panel per (eval set, test language).

Every function writes its figure whatever the data: a panel without data says why it is empty.
"""

from __future__ import annotations

import math
from pathlib import Path

from polyinstruct.io import atomic_path, read_json
from polyinstruct.report.plotting import (
    BASE_COLOUR,
    legend_outside,
    mixture_colours,
    no_data,
    pyplot,
    save,
    series_label,
)
from polyinstruct.report.tables import RUN, load_table, run_label, scale_of
from polyinstruct.score.judge.criteria import CRITERIA
from polyinstruct.score.scores import HEADLINE_CRITERION

CATEGORY_PROTOCOLS = ("mt_bench_single", "criteria")  # protocols whose summaries have gated means per category
#: MT-Bench's categories in the order of FastChat's and Weber et al.'s radar plots; others follow, sorted.
MT_BENCH_CATEGORIES = ("writing", "roleplay", "reasoning", "math", "coding", "extraction", "stem", "humanities")
MIN_RADAR_CATEGORIES = 3


# ---- planning ------------------------------------------------------------------------------------


def headline_protocol(protocols: list[str]) -> str | None:
    """The protocol the size figure plots: the first one-response protocol of the config."""
    return protocols[0] if protocols else None


def sized_models(config: dict) -> dict[str, float]:
    """{model: parameters} of the models with `models.<name>.parameters` set."""
    return {
        name: float(spec["parameters"]) for name, spec in config["models"].items() if spec.get("parameters") is not None
    }


def plans_size_figure(config: dict, protocols: list[str]) -> bool:
    return bool(sized_models(config)) and headline_protocol(protocols) is not None


def category_protocols(protocols: list[str]) -> list[str]:
    return [p for p in protocols if p in CATEGORY_PROTOCOLS]


def plans_criteria_heatmap(protocols: list[str]) -> bool:
    return "criteria" in protocols


# ---- shared --------------------------------------------------------------------------------------


def _grid(plt, n: int, ncols: int, width: float, height: float, **kwargs):
    ncols = max(1, min(n, ncols))
    nrows = max(1, math.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False, **kwargs)
    return fig, list(axes.flat)


def _panel_title(evalset: str, lang: str, several_evalsets: bool) -> str:
    return f"{lang} ({evalset})" if several_evalsets else lang


def _format_size(n: float) -> str:
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g}{unit}"
    return f"{n:g}"


def _varies(rows: list[dict], field: str) -> bool:
    return len({r[field] for r in rows if r["method"] != "base"}) > 1


# ---- score vs model size -------------------------------------------------------------------------


def size_figure(table, parameters: dict[str, float], protocol: str, path: str | Path, title: str) -> list[str]:
    """Gated mean of `protocol` against model size per test language; returns the models left out
    (those in the table without a parameter count), which the figure's footnote also names."""
    import polars as pl

    plt = pyplot()
    part = table.filter(pl.col("protocol") == protocol)
    models = part["model"].unique(maintain_order=True).to_list()
    left_out = [m for m in models if m not in parameters]
    part = part.filter(pl.col("model").is_in([m for m in models if m in parameters]))
    rows = part.to_dicts()
    panels = part.select("evalset", "lang").unique(maintain_order=True).rows()
    several = part["evalset"].n_unique() > 1
    colours = mixture_colours(table["mixture"].unique().to_list())
    show_dataset, show_lr = _varies(rows, "dataset"), _varies(rows, "lr")
    sizes = sorted({parameters[m] for m in part["model"].unique().to_list()})
    low, high = scale_of(protocol)
    fig, axes = _grid(plt, max(1, len(panels)), 4, 3.6, 3.0)
    if not panels:
        no_data(
            axes[0],
            f"no {protocol} scores of a model with models.<name>.parameters set"
            + (f"\n(left out: {', '.join(left_out)})" if left_out else ""),
        )
    for ax, (evalset, lang) in zip(axes, panels):
        here = [r for r in rows if r["evalset"] == evalset and r["lang"] == lang]
        series: dict[tuple, list[dict]] = {}
        for r in here:
            series.setdefault((r["method"], r["dataset"], r["mixture"], r["lr"]), []).append(r)
        for (method, dataset, mixture, lr), points in sorted(
            series.items(), key=lambda kv: (kv[0][0] != "base", kv[0])
        ):
            points = sorted((p for p in points if p["gated_mean"] is not None), key=lambda p: parameters[p["model"]])
            base = method == "base"
            ax.plot(
                [parameters[p["model"]] for p in points],
                [p["gated_mean"] for p in points],
                linestyle="--" if base else "-",
                marker="s" if base else "o",
                markersize=3.5,
                linewidth=1.1,
                color=colours.get(mixture, BASE_COLOUR),
                zorder=3 if base else 2,
                label=series_label(method, dataset, mixture, lr, show_dataset=show_dataset, show_lr=show_lr),
            )
        ax.set_xscale("log")
        ax.set_xticks(sizes, [_format_size(s) for s in sizes], fontsize=6, rotation=45 if len(sizes) > 5 else 0)
        ax.minorticks_off()
        if len(sizes) == 1:
            ax.set_xlim(sizes[0] / 2, sizes[0] * 2)
        ax.set_ylim(low, high + 0.05 * (high - low))
        ax.tick_params(axis="y", labelsize=7)
        ax.set_title(_panel_title(evalset, lang, several), fontsize=9)
        ax.set_xlabel("parameters (log scale)", fontsize=7)
        ax.set_ylabel(f"{protocol}, gated mean", fontsize=7)
        ax.grid(alpha=0.3)
    for ax in axes[max(1, len(panels)) :]:
        ax.set_axis_off()
    legend_outside(fig, axes)
    if left_out:
        fig.text(
            0.0,
            -0.01,
            f"Left out ({len(left_out)}, no models.<name>.parameters): {', '.join(left_out)}",
            fontsize=7,
            ha="left",
            va="top",
        )
    save(fig, path, f"{title}: {protocol} score vs model size")
    return left_out


def write_size_figure(
    summary_paths: list[str], parameters: dict[str, float], protocol: str, path: str, title: str
) -> None:
    left_out = size_figure(load_table(summary_paths), parameters, protocol, path, title)
    print(
        f"score vs size: {len(parameters)} models with a parameter count; {len(left_out)} left out"
        + (f" ({', '.join(left_out)})" if left_out else "")
    )


# ---- per-category radar --------------------------------------------------------------------------


def category_rows(summary_paths: list[str], protocols: tuple[str, ...] = CATEGORY_PROTOCOLS) -> list[dict]:
    """Gated mean per question category: mt_bench_single's gated by_category means, criteria's
    gated helpfulness per category. One row per (run, eval set, language, protocol, category)."""
    rows = []
    for path in summary_paths:
        data = read_json(path)
        head = {**{k: str(data["run"][k]) for k in RUN}, "evalset": data["evalset"], "lang": data["lang"]}
        for protocol, s in data["summary"]["protocols"].items():
            if protocol not in protocols:
                continue
            by_category = s.get("by_category") or {}
            if protocol == "criteria":
                means = {c: e.get(HEADLINE_CRITERION) for c, e in by_category.items()}
            else:
                means = {c: e.get("mean") for c, e in (by_category.get("gated") or {}).items()}
            rows += [{**head, "protocol": protocol, "category": c, "gated_mean": m} for c, m in means.items()]
            if not means:
                rows.append({**head, "protocol": protocol, "category": None, "gated_mean": None})
    return rows


def category_order(category: str) -> tuple:
    known = category.lower() in MT_BENCH_CATEGORIES
    return (not known, MT_BENCH_CATEGORIES.index(category.lower()) if known else 0, category)


def radar_figure(rows: list[dict], path: str | Path, title: str) -> None:
    """One polar panel per (protocol, eval set, model) x test language, one polygon per run."""
    import numpy as np

    plt = pyplot()
    keys = sorted({(r["protocol"], r["evalset"], r["model"]) for r in rows})
    langs = list(dict.fromkeys(r["lang"] for r in rows))
    colours = mixture_colours({r["mixture"] for r in rows})
    show_dataset, show_lr = _varies(rows, "dataset"), _varies(rows, "lr")
    several = len({r["evalset"] for r in rows}) > 1
    if not keys:
        fig, axes = _grid(plt, 1, 1, 5, 3)
        no_data(axes[0], "no per-category scores (mt_bench_single or criteria summaries)")
        save(fig, path, f"{title}: gated score per question category")
        return
    ncols = len(langs)
    fig = plt.figure(figsize=(3.3 * ncols, 3.3 * len(keys)))
    axes = []
    for i, (protocol, evalset, model) in enumerate(keys):
        part = [r for r in rows if (r["protocol"], r["evalset"], r["model"]) == (protocol, evalset, model)]
        categories = sorted({r["category"] for r in part if r["category"] is not None}, key=category_order)
        low, high = scale_of(protocol)
        measure = f"{HEADLINE_CRITERION} (gated)" if protocol == "criteria" else "gated mean"
        for j, lang in enumerate(langs):
            here = [r for r in part if r["lang"] == lang]
            shown = [r for r in here if r["category"] is not None and r["gated_mean"] is not None]
            name = f"{model} · {protocol} {measure}\n{_panel_title(evalset, lang, several)}"
            if len(categories) < MIN_RADAR_CATEGORIES or not shown:
                ax = fig.add_subplot(len(keys), ncols, i * ncols + j + 1)
                reason = (
                    "no per-category scores"
                    if not shown
                    else f"{len(categories)} categories; a radar needs {MIN_RADAR_CATEGORIES}"
                )
                ax.set_title(name, fontsize=8)
                no_data(ax, reason)
                continue
            ax = fig.add_subplot(len(keys), ncols, i * ncols + j + 1, projection="polar")
            angles = np.linspace(0, 2 * np.pi, len(categories), endpoint=False)
            runs: dict[tuple, dict] = {}
            for r in here:
                runs.setdefault((r["method"], r["dataset"], r["mixture"], r["lr"]), {})[r["category"]] = r["gated_mean"]
            for (method, dataset, mixture, lr), by_cat in sorted(
                runs.items(), key=lambda kv: (kv[0][0] != "base", kv[0])
            ):
                values = np.array([np.nan if by_cat.get(c) is None else by_cat[c] for c in categories], dtype=float)
                closed_a, closed_v = np.append(angles, angles[0]), np.append(values, values[0])
                base = method == "base"
                colour = colours.get(mixture, BASE_COLOUR)
                ax.plot(
                    closed_a,
                    closed_v,
                    color=colour,
                    linewidth=1.0,
                    linestyle="--" if base else "-",
                    marker="o",
                    markersize=2.5,
                    label=series_label(method, dataset, mixture, lr, show_dataset=show_dataset, show_lr=show_lr),
                )
                if not base and not np.isnan(values).any():
                    ax.fill(closed_a, closed_v, color=colour, alpha=0.06)
            ax.set_xticks(angles, categories, fontsize=6)
            ax.set_ylim(low, high)
            ax.set_yticks([low + (high - low) * k / 4 for k in (1, 2, 3, 4)])
            ax.set_rlabel_position(90 / len(categories))
            ax.tick_params(axis="y", labelsize=5, colors="dimgrey")
            ax.set_title(name, fontsize=8, pad=14)
            axes.append(ax)
    legend_outside(fig, axes)
    save(fig, path, f"{title}: gated score per question category")


def write_radar(summary_paths: list[str], path: str, title: str) -> None:
    rows = category_rows(summary_paths)
    print(f"category radar: {len(rows)} (run, language, protocol, category) means")
    radar_figure(rows, path, title)


# ---- criteria heatmap ----------------------------------------------------------------------------


def criteria_rows(summary_paths: list[str]) -> list[dict]:
    """Gated mean of every criterion per (run, eval set, language) from the criteria summaries."""
    rows = []
    for path in summary_paths:
        data = read_json(path)
        s = data["summary"]["protocols"].get("criteria")
        if s is None:
            continue
        gated = s.get("gated_criteria") or {}
        rows.append(
            {
                **{k: str(data["run"][k]) for k in RUN},
                "evalset": data["evalset"],
                "lang": data["lang"],
                **{c: gated.get(c) for c in CRITERIA},
            }
        )
    return rows


def _run_order(row: dict) -> tuple:
    return (row["model"], row["method"] != "base", row["method"], row["dataset"], row["mixture"], row["lr"])


def criteria_heatmap(rows: list[dict], path: str | Path, title: str) -> None:
    """Criteria (rows) x runs (columns), gated means annotated, one panel per (eval set, language)."""
    import numpy as np

    plt = pyplot()
    panels = list(dict.fromkeys((r["evalset"], r["lang"]) for r in rows))
    runs = sorted({tuple(r[k] for k in RUN) for r in rows}, key=lambda run: _run_order(dict(zip(RUN, run))))
    labels = [run_label(dict(zip(RUN, run))) for run in runs]
    several = len({r["evalset"] for r in rows}) > 1
    low, high = scale_of("criteria")
    width = min(60.0, max(6.0, 0.45 * len(runs) + 3))
    panel_height = 1.9 + 0.07 * max((len(label) for label in labels), default=0)
    fig, axes = plt.subplots(
        max(1, len(panels)), 1, figsize=(width, panel_height * max(1, len(panels))), squeeze=False, layout="constrained"
    )
    axes = list(axes[:, 0])
    if not panels:
        no_data(axes[0], "no criteria summaries")
    cmap = plt.get_cmap("viridis").with_extremes(bad="lightgrey")
    image = None
    fontsize = 7 if len(runs) <= 20 else (6 if len(runs) <= 50 else 4)
    for ax, (evalset, lang) in zip(axes, panels):
        by_run = {tuple(r[k] for k in RUN): r for r in rows if (r["evalset"], r["lang"]) == (evalset, lang)}
        values = np.array(
            [[np.nan if by_run.get(run, {}).get(c) is None else by_run[run][c] for run in runs] for c in CRITERIA],
            dtype=float,
        )
        image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=low, vmax=high, aspect="auto")
        for i in range(values.shape[0]):
            for j in range(values.shape[1]):
                v = values[i, j]
                text = "–" if np.isnan(v) else f"{v:.2f}"
                colour = "black" if np.isnan(v) or v > low + 0.6 * (high - low) else "white"
                ax.text(j, i, text, ha="center", va="center", fontsize=fontsize, color=colour)
        ax.set_yticks(range(len(CRITERIA)), [c.replace("_", " ") for c in CRITERIA], fontsize=7)
        ax.set_xticks(
            range(len(runs)),
            labels,
            rotation=60 if len(runs) > 4 else 0,
            ha="right" if len(runs) > 4 else "center",
            fontsize=7 if len(runs) <= 40 else 5,
        )
        ax.set_title(_panel_title(evalset, lang, several), fontsize=9)
    if image is not None:
        bar = fig.colorbar(image, ax=axes, fraction=0.02 if len(runs) > 10 else 0.05, pad=0.01)
        bar.set_label("gated mean (0-2)", fontsize=7)
        bar.ax.tick_params(labelsize=6)
    fig.suptitle(f"{title}: criteria per run (gated means)")
    with atomic_path(path) as tmp:  # constrained layout places the shared colour bar; no tight_layout
        fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)


def write_criteria_heatmap(summary_paths: list[str], path: str, title: str) -> None:
    rows = criteria_rows(summary_paths)
    print(f"criteria heatmap: {len(rows)} (run, eval set, language) summaries with criteria")
    criteria_heatmap(rows, path, title)


# ---- mean per language and turn, and the gain of multilingual over monolingual (Weber et al.) -----

TURN_COLUMNS = [*RUN, "evalset", "lang", "protocol", "turn", "n", "scored", "gated_mean", "ungated_mean"]
IMPROVEMENT_COLUMNS = [
    "model",
    "method",
    "dataset",
    "lr",
    "evalset",
    "protocol",
    "turn",
    "multilingual",
    "monolingual",
    "lang",
    "multilingual_mean",
    "monolingual_mean",
    "points",
    "improvement_pct",
]
MEAN_OVER_LANGUAGES = "mean"


def turn_protocols(protocols: list[str]) -> list[str]:
    """One-response protocols with per-turn rating summaries (MT-Bench's single grading)."""
    from polyinstruct.score.judge import protocols as registry

    return [p for p in protocols if registry.get(p).unit == registry.TURN and registry.get(p).summary == "rating"]


def plans_turn_figures(protocols: list[str]) -> bool:
    return bool(turn_protocols(protocols))


def turn_rows(summary_paths: list[str], protocols: tuple[str, ...] | None = None) -> list[dict]:
    """Gated and ungated mean per turn, one row per (run, eval set, language, protocol, turn)."""
    rows = []
    for path in summary_paths:
        data = read_json(path)
        head = {**{k: str(data["run"][k]) for k in RUN}, "evalset": data["evalset"], "lang": data["lang"]}
        for protocol, s in data["summary"]["protocols"].items():
            by_turn = s.get("by_turn")
            if by_turn is None or (protocols is not None and protocol not in protocols):
                continue
            for turn, gated in by_turn["gated"].items():
                ungated = by_turn["ungated"].get(turn, {})
                rows.append(
                    {
                        **head,
                        "protocol": protocol,
                        "turn": int(turn),
                        "n": gated["n"],
                        "scored": gated["scored"],
                        "gated_mean": gated["mean"],
                        "ungated_mean": ungated.get("mean"),
                    }
                )
    return sorted(rows, key=lambda r: (r["evalset"], r["protocol"], r["turn"], _run_order(r), r["lang"]))


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _is_monolingual(mixture: str) -> bool:
    return mixture.startswith("mono-")


def improvement_rows(rows: list[dict]) -> list[dict]:
    """% improvement of every multilingual mixture over every monolingual one, per test language and turn,
    for the same model, method, dataset and lr: 100 x (multilingual - monolingual) / the scale's top.

    Weber et al. express a difference of 0.44 points on MT-Bench's 1-10 scale as 4.4%; rows with lang
    `mean` average the languages both runs were scored in (their Fig. 2 and 4)."""
    out = []
    tuned = [r for r in rows if r["method"] != "base" and r["gated_mean"] is not None]
    groups: dict[tuple, dict[str, dict[str, float]]] = {}
    for r in tuned:
        key = (r["model"], r["method"], r["dataset"], r["lr"], r["evalset"], r["protocol"], r["turn"])
        groups.setdefault(key, {}).setdefault(r["mixture"], {})[r["lang"]] = r["gated_mean"]
    for key, by_mixture in groups.items():
        top = scale_of(key[5])[1]
        monos = sorted(m for m in by_mixture if _is_monolingual(m))
        multis = sorted(m for m in by_mixture if not _is_monolingual(m))
        for multi in multis:
            for mono in monos:
                langs = [lang for lang in by_mixture[multi] if lang in by_mixture[mono]]
                points = {lang: by_mixture[multi][lang] - by_mixture[mono][lang] for lang in langs}
                entries = [(lang, by_mixture[multi][lang], by_mixture[mono][lang], points[lang]) for lang in langs]
                if langs:
                    entries.append(
                        (
                            MEAN_OVER_LANGUAGES,
                            _mean([by_mixture[multi][lang] for lang in langs]),
                            _mean([by_mixture[mono][lang] for lang in langs]),
                            _mean(list(points.values())),
                        )
                    )
                for lang, a, b, diff in entries:
                    out.append(
                        dict(
                            zip(
                                IMPROVEMENT_COLUMNS,
                                (*key[:6], key[6], multi, mono, lang, a, b, diff, 100.0 * diff / top),
                            )
                        )
                    )
    return out


def _write_csv(rows: list[dict], columns: list[str], path: str | Path) -> None:
    import csv

    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows({c: r.get(c) for c in columns} for r in rows)


def _panels(rows: list[dict]) -> list[tuple]:
    return list(dict.fromkeys((r["evalset"], r["protocol"], r["model"], r["dataset"]) for r in rows))


def turn_figure(rows: list[dict], path: str | Path, title: str) -> None:
    """Mean score per test language and turn, one bar per run (base and every mixture), one panel per
    (eval set, protocol, model, training dataset) and turn (Weber et al., Fig. 1)."""
    import numpy as np

    plt = pyplot()
    tuned_datasets = sorted({r["dataset"] for r in rows if r["method"] != "base"})
    # base runs belong in every dataset's panel
    expanded = [
        {**r, "dataset": d}
        for r in rows
        for d in (tuned_datasets or [r["dataset"]] if r["method"] == "base" else [r["dataset"]])
    ]
    panels = _panels(expanded)
    turns = sorted({r["turn"] for r in rows}) or [1]
    colours = mixture_colours({r["mixture"] for r in rows})
    fig, axes = _grid(plt, max(1, len(panels)) * len(turns), len(turns), 5.2, 3.2)
    if not panels:
        no_data(axes[0], "no per-turn scores (mt_bench_single summaries)")
    for i, (evalset, protocol, model, dataset) in enumerate(panels):
        for j, turn in enumerate(turns):
            ax = axes[i * len(turns) + j]
            here = [
                r
                for r in expanded
                if (r["evalset"], r["protocol"], r["model"], r["dataset"], r["turn"])
                == (evalset, protocol, model, dataset, turn)
            ]
            langs = list(dict.fromkeys(r["lang"] for r in here))
            runs = sorted({tuple(r[k] for k in RUN) for r in here}, key=lambda run: _run_order(dict(zip(RUN, run))))
            width = 0.8 / max(1, len(runs))
            for k, run in enumerate(runs):
                by_lang = {r["lang"]: r["gated_mean"] for r in here if tuple(r[key] for key in RUN) == run}
                values = [np.nan if by_lang.get(lang) is None else by_lang[lang] for lang in langs]
                keys = dict(zip(RUN, run))
                ax.bar(
                    [x + k * width for x in range(len(langs))],
                    values,
                    width,
                    color=colours.get(keys["mixture"], BASE_COLOUR),
                    label=series_label(keys["method"], keys["dataset"], keys["mixture"], keys["lr"]),
                )
            low, high = scale_of(protocol)
            ax.set_xticks([x + 0.4 - width / 2 for x in range(len(langs))], langs, fontsize=7)
            ax.set_ylim(0, high + 0.05 * (high - low))
            ax.set_title(
                f"{model} · {dataset} · turn {turn}" + (f" · {evalset}" if len(panels) > 1 else ""), fontsize=8
            )
            ax.set_ylabel(f"{protocol} mean", fontsize=7)
            ax.tick_params(axis="y", labelsize=7)
            ax.grid(alpha=0.3, axis="y")
            if not here:
                no_data(ax, "no scores")
    legend_outside(fig, axes)
    save(fig, path, f"{title}: mean score per test language and turn")


def improvement_figure(rows: list[dict], path: str | Path, title: str) -> None:
    """% improvement of each multilingual mixture over each monolingual one, averaged over the test
    languages, one panel per (eval set, protocol, model, dataset) and turn (Weber et al., Fig. 2 and 4)."""
    plt = pyplot()
    mean_rows = [r for r in rows if r["lang"] == MEAN_OVER_LANGUAGES]
    panels = _panels(mean_rows)
    turns = sorted({r["turn"] for r in mean_rows}) or [1]
    colours = mixture_colours({r[k] for r in mean_rows for k in ("multilingual", "monolingual")})  # as elsewhere
    fig, axes = _grid(plt, max(1, len(panels)) * len(turns), len(turns), 5.2, 3.2)
    if not panels:
        no_data(axes[0], "no monolingual and multilingual runs with per-turn scores to compare")
    for i, (evalset, protocol, model, dataset) in enumerate(panels):
        for j, turn in enumerate(turns):
            ax = axes[i * len(turns) + j]
            here = [
                r
                for r in mean_rows
                if (r["evalset"], r["protocol"], r["model"], r["dataset"], r["turn"])
                == (evalset, protocol, model, dataset, turn)
            ]
            monos = sorted({r["monolingual"] for r in here})
            multis = sorted({r["multilingual"] for r in here})
            width = 0.8 / max(1, len(multis))
            for k, multi in enumerate(multis):
                by_mono = {r["monolingual"]: r["improvement_pct"] for r in here if r["multilingual"] == multi}
                ax.bar(
                    [x + k * width for x in range(len(monos))],
                    [by_mono.get(m, 0.0) for m in monos],
                    width,
                    color=colours.get(multi, BASE_COLOUR),
                    label=f"{multi} over monolingual",
                )
            ax.axhline(0, color="grey", linewidth=0.6)
            ax.set_xticks([x + 0.4 - width / 2 for x in range(len(monos))], monos, fontsize=7)
            ax.set_title(
                f"{model} · {dataset} · turn {turn}" + (f" · {evalset}" if len(panels) > 1 else ""), fontsize=8
            )
            ax.set_ylabel("improvement (% of the scale)", fontsize=7)
            ax.tick_params(axis="y", labelsize=7)
            ax.grid(alpha=0.3, axis="y")
            if not here:
                no_data(ax, "nothing to compare")
    legend_outside(fig, axes)
    save(fig, path, f"{title}: improvement of multilingual over monolingual tuning (mean over test languages)")


def write_turn_report(summary_paths: list[str], csv_path: str, png_path: str, title: str) -> list[dict]:
    rows = turn_rows(summary_paths)
    _write_csv(rows, TURN_COLUMNS, csv_path)
    turn_figure(rows, png_path, title)
    print(f"turn scores: {len(rows)} (run, language, protocol, turn) means")
    return rows


def write_improvement_report(summary_paths: list[str], csv_path: str, png_path: str, title: str) -> list[dict]:
    rows = improvement_rows(turn_rows(summary_paths))
    _write_csv(rows, IMPROVEMENT_COLUMNS, csv_path)
    improvement_figure(rows, png_path, title)
    print(f"multilingual vs monolingual: {len(rows)} comparisons")
    return rows
