"""Paper-style figures from the per-(run, eval set, language) score summaries.

- score vs model size (Chen et al., Figs 2-4): one figure per model family and training method, one
  panel per test language, x = parameter count (`models.<name>.parameters`, log scale), y = gated mean
  of the headline protocol, one line per mixture *as the paper names them on that panel*: multilingual,
  downsampled, monolingual (mono-<the panel's language>) and English-only (mono-<source>); another
  language's monolingual run is not drawn on a panel; the base models dashed;
- the score lost to language gating vs model size (Chen et al., Fig. 6): one panel per method and
  family, the drop averaged over the test languages seen in training, one line per mixture role;
- families at one size (Chen et al., Fig. 7): one panel per test language, the families on x, one bar
  per mixture role;
- per-category radar (Weber et al.): gated mean per question category, one polar panel per
  (protocol, eval set, model) and test language, one polygon per run;
- criteria heatmap (Chirkova & Nikoulina): gated mean of each criterion (rows) per run (columns),
  one panel per (eval set, test language);
- criteria in the source language and the others (Chirkova & Nikoulina, Fig. 2): runs x criteria, each
  criterion split into `en` and `non-en` (the mean over the other test languages);
- helpfulness by task type (their Fig. 3, right), `en` against `non-en`, one panel per (eval set, run);
- surface metrics by learning rate (their Fig. 3, left), from the lr-selection artifacts: language ID,
  spelling and relevance of every sweep point per language, the chosen lr marked.

Every function writes its figure whatever the data: a panel without data says why it is empty.
"""

from __future__ import annotations

import math
import re
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
from polyinstruct.report.tables import RUN, load_table, run_labeller, scale_of
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


def model_family(name: str, spec: dict | None = None) -> str:
    """`models.<name>.family`, else the name without its last `-<size>` part (pythia-1.4b -> pythia,
    bloom-7b1 -> bloom, open-llama-7b -> open-llama); a name without one is its own family."""
    if spec and spec.get("family"):
        return str(spec["family"])
    return re.sub(r"-[^-]*\d[^-]*$", "", name) or name


def families(config: dict) -> dict[str, dict[str, float]]:
    """{family: {model: parameters}} of the models with a parameter count, in config order."""
    out: dict[str, dict[str, float]] = {}
    for name, size in sized_models(config).items():
        out.setdefault(model_family(name, config["models"][name]), {})[name] = size
    return out


def size_figure_jobs(config: dict, protocols: list[str]) -> list[tuple[str, str]]:
    """(family, method) of every score-vs-size figure (Chen et al.'s Figs 2-4)."""
    if headline_protocol(protocols) is None:
        return []
    return [(family, method) for family in families(config) for method in config["train"]["methods"]]


def plans_size_figure(config: dict, protocols: list[str]) -> bool:
    return bool(size_figure_jobs(config, protocols))


def family_choice(config: dict) -> dict[str, str]:
    """{family: model} compared at one size (Fig. 7): per family the largest model with `parameters` in
    [report.families.min_parameters, max_parameters]."""
    bounds = config["report"]["families"]
    low, high = bounds["min_parameters"] or 0.0, bounds["max_parameters"] or math.inf
    chosen = {}
    for family, models in families(config).items():
        inside = {m: p for m, p in models.items() if low <= p <= high}
        if inside:
            chosen[family] = max(inside, key=inside.get)
    return chosen


def seen_languages(config: dict) -> list[str]:
    """Test languages that are also training languages (Chen et al. average Fig. 6 over these)."""
    from polyinstruct.workflow import grid

    return [lang for lang in grid.eval_languages(config) if lang in config["languages"]]


# ---- Chen et al.'s mixture roles -----------------------------------------------------------------

MONOLINGUAL, ENGLISH_ONLY = "monolingual", "English-only"
#: Paper markers: multilingual -□-, monolingual -*-, English-only -○-, downsampled -△-.
ROLE_STYLE = {
    "multilingual": ("s", "tab:green"),
    MONOLINGUAL: ("*", "tab:orange"),
    ENGLISH_ONLY: ("o", "tab:blue"),
    "downsampled": ("^", "tab:red"),
}
ROLE_ORDER = ("multilingual", "downsampled", MONOLINGUAL, ENGLISH_ONLY)


def mixture_role(mixture: str, lang: str, source: str) -> str | None:
    """What a mixture is on the panel of test language `lang`: the monolingual run of that language, the
    English-only (source-language) run, or a mixture of several languages under its own name; None for
    another language's monolingual run, which the paper does not draw there."""
    if mixture == f"mono-{lang}":
        return MONOLINGUAL
    if mixture == f"mono-{source}":
        return ENGLISH_ONLY
    if mixture.startswith("mono-"):
        return None
    return mixture


def mixture_roles(mixture: str, lang: str, source: str) -> list[str]:
    """Every role a mixture plays on `lang`'s panel: the source language's monolingual run is also the
    English-only run there (so averages of English-only over languages include the source language)."""
    role = mixture_role(mixture, lang, source)
    if role is None:
        return []
    return [role, ENGLISH_ONLY] if role == MONOLINGUAL and lang == source else [role]


def _role_rank(role: str) -> tuple:
    return (ROLE_ORDER.index(role) if role in ROLE_ORDER else len(ROLE_ORDER), role)


def _role_style(role: str, colours: dict[str, str]) -> tuple[str, str]:
    return ROLE_STYLE.get(role, ("D", colours.get(role, BASE_COLOUR)))


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


def size_figure(
    table,
    parameters: dict[str, float],
    protocol: str,
    path: str | Path,
    title: str,
    *,
    method: str | None = None,
    source: str = "en",
    name: str | None = None,
) -> list[str]:
    """Gated mean of `protocol` against model size per test language (Chen et al.'s Figs 2-4 when `parameters`
    holds one family and `method` is set), one line per mixture role on each panel (`mixture_role`); returns
    the models left out (those in the table without a parameter count), which the figure's footnote names."""
    import polars as pl

    plt = pyplot()
    part = table.filter(pl.col("protocol") == protocol)
    if method is not None:
        part = part.filter(pl.col("method").is_in([method, "base"]))
    models = part["model"].unique(maintain_order=True).to_list()
    left_out = [m for m in models if m not in parameters]
    part = part.filter(pl.col("model").is_in([m for m in models if m in parameters]))
    rows = part.to_dicts()
    panels = part.select("evalset", "lang").unique(maintain_order=True).rows()
    several = part["evalset"].n_unique() > 1
    colours = mixture_colours(table["mixture"].unique().to_list())
    show_method = method is None and _varies(rows, "method")
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
            role = "base model" if r["method"] == "base" else mixture_role(r["mixture"], lang, source)
            if role is not None:
                series.setdefault((r["method"], r["dataset"], role, r["lr"]), []).append(r)
        for (run_method, dataset, role, lr), points in sorted(
            series.items(), key=lambda kv: (kv[0][0] != "base", kv[0][0], _role_rank(kv[0][2]), kv[0])
        ):
            points = sorted((p for p in points if p["gated_mean"] is not None), key=lambda p: parameters[p["model"]])
            base = run_method == "base"
            marker, colour = ("s", BASE_COLOUR) if base else _role_style(role, colours)
            extra = [run_method] if show_method else []
            extra += ([dataset] if show_dataset and not base else []) + ([f"lr={lr}"] if show_lr and not base else [])
            ax.plot(
                [parameters[p["model"]] for p in points],
                [p["gated_mean"] for p in points],
                linestyle="--" if base else "-",
                marker=marker,
                markersize=5 if marker == "*" else 3.5,
                linewidth=1.1,
                color=colour,
                zorder=3 if base else 2,
                label=role + (f" ({', '.join(extra)})" if extra and not base else ""),
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
    what = " ".join(x for x in (name, method) if x)
    save(fig, path, f"{title}: {protocol} score vs model size" + (f" ({what})" if what else ""))
    return left_out


def write_size_figure(
    summary_paths: list[str],
    parameters: dict[str, float],
    protocol: str,
    path: str,
    title: str,
    method: str | None = None,
    source: str = "en",
    name: str | None = None,
) -> None:
    table = load_table(summary_paths)
    left_out = size_figure(table, parameters, protocol, path, title, method=method, source=source, name=name)
    print(
        f"score vs size ({name or 'all models'}, {method or 'every method'}): {len(parameters)} models with a "
        f"parameter count; {len(left_out)} left out" + (f" ({', '.join(left_out)})" if left_out else "")
    )


# ---- the score lost to gating vs size (Chen et al.'s Fig. 6) -------------------------------------


def role_means(rows: list[dict], value: str, langs: list[str], source: str) -> dict[str, float]:
    """{role: mean of `value` over `langs`} for one model's tuned runs (a role counts only where it has a
    value in every one of `langs`, so every point averages the same languages)."""
    by_role: dict[str, dict[str, float]] = {}
    for r in rows:
        if r["method"] == "base" or r["lang"] not in langs or r[value] is None:
            continue
        for role in mixture_roles(r["mixture"], r["lang"], source):
            by_role.setdefault(role, {})[r["lang"]] = r[value]
    return {role: sum(v.values()) / len(v) for role, v in by_role.items() if set(v) >= set(langs)}


def drop_figure(
    table,
    families_: dict[str, dict[str, float]],
    methods: list[str],
    protocol: str,
    langs: list[str],
    source: str,
    path: str | Path,
    title: str,
) -> int:
    """The gating drop (ungated - gated mean) averaged over `langs` against model size, one panel per
    (method, family), one line per mixture role; returns the number of points drawn."""
    import polars as pl

    plt = pyplot()
    part = table.filter((pl.col("protocol") == protocol) & (pl.col("method") != "base"))
    panels = [(m, f) for m in methods for f in families_]
    fig, axes = _grid(plt, max(1, len(panels)), 4, 3.6, 3.0)
    drawn = 0
    if not panels:
        no_data(axes[0], "no model with models.<name>.parameters set")
    colours = mixture_colours(table["mixture"].unique().to_list())
    for ax, (method, family) in zip(axes, panels):
        sizes = families_[family]
        lines: dict[str, list[tuple[float, float]]] = {}
        for model, size in sizes.items():
            rows = part.filter((pl.col("method") == method) & (pl.col("model") == model)).to_dicts()
            several_evalsets = len({r["evalset"] for r in rows}) > 1
            for (evalset, dataset, lr), group in _groups(rows):
                key_extra = [
                    x
                    for x, varies in (
                        (evalset, several_evalsets),
                        (dataset, _varies(rows, "dataset")),
                        (f"lr={lr}", _varies(rows, "lr")),
                    )
                    if varies
                ]
                for role, mean in role_means(group, "drop", langs, source).items():
                    label = role + (f" ({', '.join(key_extra)})" if key_extra else "")
                    lines.setdefault(label, []).append((size, mean))
        if not lines:
            no_data(ax, f"{method} {family}: no {protocol} drop in every one of {', '.join(langs) or 'no languages'}")
            continue
        for label, points in sorted(lines.items(), key=lambda kv: _role_rank(kv[0].split(" (")[0])):
            points.sort()
            marker, colour = _role_style(label.split(" (")[0], colours)
            ax.plot(
                [p[0] for p in points],
                [p[1] for p in points],
                linestyle="--",
                marker=marker,
                markersize=4,
                linewidth=1.1,
                color=colour,
                label=label,
            )
            drawn += len(points)
        ticks = sorted(sizes.values())
        ax.set_xscale("log")
        ax.set_xticks(ticks, [_format_size(t) for t in ticks], fontsize=6, rotation=45 if len(ticks) > 5 else 0)
        ax.minorticks_off()
        if len(ticks) == 1:
            ax.set_xlim(ticks[0] / 2, ticks[0] * 2)
        ax.set_yscale("symlog", linthresh=0.05)  # the paper's log axis, with room for a drop of 0
        ax.set_title(f"{method} · {family}", fontsize=9)
        ax.set_xlabel("parameters (log scale)", fontsize=7)
        ax.set_ylabel(f"{protocol} drop, mean over {len(langs)} languages", fontsize=7)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in axes[max(1, len(panels)) :]:
        ax.set_axis_off()
    legend_outside(fig, axes)
    save(fig, path, f"{title}: score lost to language gating vs model size (seen languages: {', '.join(langs)})")
    return drawn


def _groups(rows: list[dict]) -> list[tuple[tuple, list[dict]]]:
    out: dict[tuple, list[dict]] = {}
    for r in rows:
        out.setdefault((r["evalset"], r["dataset"], r["lr"]), []).append(r)
    return list(out.items())


def write_drop_figure(
    summary_paths: list[str],
    families_: dict,
    methods: list[str],
    protocol: str,
    langs: list[str],
    source: str,
    path: str,
    title: str,
) -> None:
    drawn = drop_figure(load_table(summary_paths), families_, methods, protocol, langs, source, path, title)
    print(f"gating drop vs size: {drawn} points over {len(families_)} families and {len(methods)} methods")


# ---- families at one size (Chen et al.'s Fig. 7) -------------------------------------------------


def families_figure(
    table,
    chosen: dict[str, str],
    parameters: dict[str, float],
    protocol: str,
    source: str,
    path: str | Path,
    title: str,
) -> int:
    """Gated mean per test language (panels) and family (x), one bar per mixture role, one row of panels per
    method; returns the number of bars drawn."""
    import polars as pl

    plt = pyplot()
    part = table.filter(
        (pl.col("protocol") == protocol) & (pl.col("method") != "base") & pl.col("model").is_in(list(chosen.values()))
    )
    methods = part["method"].unique(maintain_order=True).to_list()
    panels = part.select("evalset", "lang").unique(maintain_order=True).rows()
    several = part["evalset"].n_unique() > 1
    colours = mixture_colours(table["mixture"].unique().to_list())
    ncols = max(1, len(panels))
    fig, axes = plt.subplots(
        max(1, len(methods)), ncols, figsize=(3.4 * ncols, 3.0 * max(1, len(methods))), squeeze=False
    )
    flat = list(axes.flat)
    if not panels:
        no_data(
            flat[0], f"no {protocol} scores of the families' models ({', '.join(chosen.values()) or 'none chosen'})"
        )
    family_names = list(chosen)
    low, high = scale_of(protocol)
    bars = 0
    for row, method in enumerate(methods):
        for col, (evalset, lang) in enumerate(panels):
            ax = axes[row][col]
            here = part.filter((pl.col("method") == method) & (pl.col("evalset") == evalset) & (pl.col("lang") == lang))
            by_role: dict[str, dict[str, float]] = {}
            for r in here.to_dicts():
                role = mixture_role(r["mixture"], lang, source)
                family = next(f for f, m in chosen.items() if m == r["model"])
                if role is not None and r["gated_mean"] is not None:
                    by_role.setdefault(role, {})[family] = r["gated_mean"]
            roles = sorted(by_role, key=_role_rank)
            width = 0.8 / max(1, len(roles))
            for j, role in enumerate(roles):
                xs = [i - 0.4 + width * (j + 0.5) for i, f in enumerate(family_names) if f in by_role[role]]
                ys = [by_role[role][f] for f in family_names if f in by_role[role]]
                marker, colour = _role_style(role, colours)
                ax.bar(xs, ys, width, color=colour, label=role, edgecolor="white", linewidth=0.5)
                bars += len(xs)
            labels = [f"{f}\n{_format_size(parameters[chosen[f]])}" for f in family_names]
            ax.set_xticks(range(len(family_names)), labels, fontsize=6)
            ax.set_ylim(low, high + 0.05 * (high - low))
            ax.set_title(f"{_panel_title(evalset, lang, several)} · {method}", fontsize=9)
            ax.set_ylabel(f"{protocol}, gated mean", fontsize=7)
            ax.tick_params(axis="y", labelsize=7)
            ax.grid(alpha=0.3, axis="y")
    legend_outside(fig, flat)
    save(fig, path, f"{title}: model families compared ({', '.join(f'{f}: {m}' for f, m in chosen.items())})")
    return bars


def write_families_figure(
    summary_paths: list[str],
    chosen: dict[str, str],
    parameters: dict[str, float],
    protocol: str,
    source: str,
    path: str,
    title: str,
) -> None:
    bars = families_figure(load_table(summary_paths), chosen, parameters, protocol, source, path, title)
    print(f"families: {len(chosen)} families ({', '.join(chosen.values())}), {bars} bars")


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
    run_label = run_labeller(dict(zip(RUN, run)) for run in runs)
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


# ---- Chirkova & Nikoulina: the source language against the others, task types, surface metrics by lr ---


def language_group(lang: str, source: str) -> str:
    """`en` for the source language, `non-en` for every other (the paper's columns)."""
    return source if lang == source else f"non-{source}"


def _group_means(values_by_lang: dict[str, float | None], source: str) -> dict[str, float | None]:
    """Mean over the languages of each group (the paper averages Fr, Pt and Ru)."""
    groups: dict[str, list[float]] = {}
    for lang, value in values_by_lang.items():
        if value is not None:
            groups.setdefault(language_group(lang, source), []).append(value)
    return {g: sum(v) / len(v) for g, v in groups.items()}


def transfer_rows(summary_paths: list[str], source: str) -> list[dict]:
    """Gated mean of every criterion per (run, eval set, language group): the source language, and the mean
    over the other languages. One row per (run, eval set, group)."""
    by_key: dict[tuple, dict[str, dict[str, float | None]]] = {}
    for row in criteria_rows(summary_paths):
        key = (*(row[k] for k in RUN), row["evalset"])
        for criterion in CRITERIA:
            by_key.setdefault(key, {}).setdefault(criterion, {})[row["lang"]] = row[criterion]
    out = []
    for key, by_criterion in by_key.items():
        groups: dict[str, dict] = {}
        for criterion, by_lang in by_criterion.items():
            for group, mean in _group_means(by_lang, source).items():
                groups.setdefault(group, {})[criterion] = mean
        langs = {lang for by_lang in by_criterion.values() for lang in by_lang}
        for group in sorted({language_group(lang, source) for lang in langs}, key=lambda g: g != source):
            out.append(
                {
                    **dict(zip(RUN, key[:-1])),
                    "evalset": key[-1],
                    "group": group,
                    **{c: groups.get(group, {}).get(c) for c in CRITERIA},
                }
            )
    return out


def criteria_transfer_heatmap(rows: list[dict], path: str | Path, title: str, source: str) -> None:
    """Runs (rows) x criteria, each criterion split into the source language and the others (the paper's
    Fig. 2), gated means annotated; one panel per eval set."""
    import numpy as np

    plt = pyplot()
    evalsets = list(dict.fromkeys(r["evalset"] for r in rows))
    runs = sorted({tuple(r[k] for k in RUN) for r in rows}, key=lambda run: _run_order(dict(zip(RUN, run))))
    groups = [source, f"non-{source}"]
    columns = [(c, g) for c in CRITERIA for g in groups]
    low, high = scale_of("criteria")
    height = 1.2 + 0.32 * max(1, len(runs))
    fig, axes = plt.subplots(
        max(1, len(evalsets)), 1, figsize=(11, height * max(1, len(evalsets))), squeeze=False, layout="constrained"
    )
    axes = list(axes[:, 0])
    if not evalsets:
        no_data(axes[0], "no criteria summaries")
    cmap = plt.get_cmap("viridis").with_extremes(bad="lightgrey")
    image = None
    for ax, evalset in zip(axes, evalsets):
        by = {(tuple(r[k] for k in RUN), r["group"]): r for r in rows if r["evalset"] == evalset}
        values = np.array(
            [[np.nan if by.get((run, g), {}).get(c) is None else by[(run, g)][c] for c, g in columns] for run in runs],
            dtype=float,
        )
        image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=low, vmax=high, aspect="auto")
        for i in range(values.shape[0]):
            for j in range(values.shape[1]):
                v = values[i, j]
                colour = "black" if np.isnan(v) or v > low + 0.6 * (high - low) else "white"
                ax.text(j, i, "–" if np.isnan(v) else f"{v:.2f}", ha="center", va="center", fontsize=6, color=colour)
        ax.set_xticks(range(len(columns)), [g for _, g in columns], fontsize=6)
        for k, criterion in enumerate(CRITERIA):
            ax.text(2 * k + 0.5, -0.9, criterion.replace("_", " "), ha="center", va="bottom", fontsize=7)
            if k:
                ax.axvline(2 * k - 0.5, color="white", linewidth=2)
        run_label = run_labeller(dict(zip(RUN, run)) for run in runs)
        ax.set_yticks(range(len(runs)), [run_label(dict(zip(RUN, run))) for run in runs], fontsize=7)
        ax.set_ylabel(evalset, fontsize=9)
    if image is not None:
        bar = fig.colorbar(image, ax=axes, fraction=0.03, pad=0.01)
        bar.set_label("gated mean (0-2)", fontsize=7)
        bar.ax.tick_params(labelsize=6)
    fig.suptitle(f"{title}: criteria in {source} and the other languages (gated means)")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)


def write_criteria_transfer(summary_paths: list[str], path: str, title: str, source: str) -> None:
    rows = transfer_rows(summary_paths, source)
    print(f"criteria {source} vs non-{source}: {len(rows)} (run, eval set, language group) rows")
    criteria_transfer_heatmap(rows, path, title, source)


def task_type_rows(summary_paths: list[str], source: str) -> list[dict]:
    """Gated helpfulness per task type, per (run, eval set, language group); the per-language means of the
    group are averaged, and `n` counts the scored answers behind them."""
    by_key: dict[tuple, dict[str, float | None]] = {}
    counts: dict[tuple, int] = {}
    for path in summary_paths:
        data = read_json(path)
        s = data["summary"]["protocols"].get("criteria")
        if s is None:
            continue
        run = tuple(str(data["run"][k]) for k in RUN)
        for category, entry in (s.get("by_category") or {}).items():
            key = (run, data["evalset"], category)
            by_key.setdefault(key, {})[data["lang"]] = entry.get(HEADLINE_CRITERION)
            group_key = (*key, language_group(data["lang"], source))
            counts[group_key] = counts.get(group_key, 0) + entry.get(f"{HEADLINE_CRITERION}_n", 0)
    rows = []
    for (run, evalset, category), by_lang in by_key.items():
        for group, mean in _group_means(by_lang, source).items():
            rows.append(
                {
                    **dict(zip(RUN, run)),
                    "evalset": evalset,
                    "category": category,
                    "group": group,
                    HEADLINE_CRITERION: mean,
                    "n": counts.get((run, evalset, category, group), 0),
                }
            )
    return rows


def task_type_figure(rows: list[dict], path: str | Path, title: str, source: str) -> None:
    """Gated helpfulness per task type (the paper's Fig. 3, right): one panel per (eval set, run), a bar per
    language group and task type."""
    import numpy as np

    plt = pyplot()
    panels = sorted(
        {(r["evalset"], tuple(r[k] for k in RUN)) for r in rows},
        key=lambda p: (p[0], _run_order(dict(zip(RUN, p[1])))),
    )
    groups = [source, f"non-{source}"]
    colours = {source: "#1f77b4", f"non-{source}": "#ff7f0e"}
    low, high = scale_of("criteria")
    heights = [len({r["category"] for r in rows if r["evalset"] == e}) for e, _ in panels] or [1]
    fig, axes = _grid(plt, max(1, len(panels)), 3, 4.2, 0.9 + 0.22 * max(heights))
    if not panels:
        no_data(axes[0], "no scored helpfulness per task type (no criteria summaries, or no answer parsed)")
    for ax, (evalset, run) in zip(axes, panels):
        here = [r for r in rows if r["evalset"] == evalset and tuple(r[k] for k in RUN) == run]
        categories = sorted({r["category"] for r in here})
        y = np.arange(len(categories))
        for k, group in enumerate(groups):
            by_category = {r["category"]: r[HEADLINE_CRITERION] for r in here if r["group"] == group}
            values = [by_category.get(c) for c in categories]
            ax.barh(
                y + (k - 0.5) * 0.4,
                [np.nan if v is None else v for v in values],
                height=0.4,
                color=colours[group],
                label=f"{group}",
            )
        ax.set_yticks(y, categories, fontsize=6)
        ax.invert_yaxis()
        ax.set_xlim(low, high)
        ax.tick_params(axis="x", labelsize=6)
        ax.set_xlabel(f"{HEADLINE_CRITERION} (gated mean)", fontsize=7)
        ax.set_title(f"{run_labeller(rows)(dict(zip(RUN, run)))}\n{evalset}", fontsize=7)
        ax.grid(axis="x", alpha=0.3)
    for ax in axes[max(1, len(panels)) :]:
        ax.set_axis_off()
    legend_outside(fig, axes)
    save(fig, path, f"{title}: {HEADLINE_CRITERION} by task type, {source} and the other languages")


def write_task_types(summary_paths: list[str], path: str, title: str, source: str) -> None:
    rows = task_type_rows(summary_paths, source)
    unknown = sum(r["category"] == "unknown" for r in rows)
    print(f"helpfulness by task type: {len(rows)} rows ({unknown} of task type 'unknown': no task types given)")
    task_type_figure(rows, path, title, source)


def surface_lr_rows(selection_paths: list[str]) -> list[dict]:
    """Every sweep point's surface metrics per language from the lr-selection artifacts: one row per
    (model, method, dataset, mixture, lr, metric, language), with the weighted score and the choice."""
    rows = []
    for path in selection_paths:
        data = read_json(path)
        run = data.get("run") or dict(zip(("model", "method", "dataset", "mixture"), Path(path).parts[-6:-2]))
        model, method, dataset, mixture = (run[k] for k in ("model", "method", "dataset", "mixture"))
        for c in data["candidates"]:
            for metric, entry in (c.get("metrics") or {}).items():
                for lang, value in entry["by_language"].items():
                    rows.append(
                        {
                            "model": model,
                            "method": method,
                            "dataset": dataset,
                            "mixture": mixture,
                            "lr": c["lr"],
                            "metric": metric,
                            "lang": lang,
                            "value": value,
                            "score": c.get("score"),
                            "selected": c["lr"] == data["selected_lr"],
                            "criterion": data["criterion"],
                        }
                    )
    return rows


SURFACE_LABELS = {"langid": "language ID correct", "spelling": "spelling correct", "relevance": "relevant"}


def surface_lr_figure(rows: list[dict], path: str | Path, title: str) -> None:
    """Surface metrics against the learning rate (the paper's Fig. 3, left): one row of panels per training
    configuration, one panel per metric, a line per language; the chosen lr is marked."""
    plt = pyplot()
    configs = sorted({(r["model"], r["method"], r["dataset"], r["mixture"]) for r in rows})
    metrics = [m for m in SURFACE_LABELS if any(r["metric"] == m for r in rows)]
    langs = list(dict.fromkeys(r["lang"] for r in rows))
    lang_colours = {lang: f"C{i % 10}" for i, lang in enumerate(langs)}
    ncols = max(1, len(metrics))
    fig, axes = plt.subplots(
        max(1, len(configs)), ncols, figsize=(3.2 * ncols, 2.4 * max(1, len(configs))), squeeze=False
    )
    flat = list(axes.flat)
    if not configs:
        no_data(flat[0], "no lr-selection artifacts with surface metrics")
    for i, config in enumerate(configs):
        here = [r for r in rows if (r["model"], r["method"], r["dataset"], r["mixture"]) == config]
        rates = sorted({r["lr"] for r in here}, key=float)
        chosen = next((r["lr"] for r in here if r["selected"]), None)
        for j, metric in enumerate(metrics):
            ax = axes[i][j]
            shown = 0
            for lang in langs:
                points = {r["lr"]: r["value"] for r in here if r["metric"] == metric and r["lang"] == lang}
                shown += sum(v is not None for v in points.values())
                xs = [float(lr) for lr in rates if points.get(lr) is not None]
                ax.plot(
                    xs,
                    [points[lr] for lr in rates if points.get(lr) is not None],
                    marker="o",
                    markersize=3,
                    linewidth=1.0,
                    color=lang_colours[lang],
                    label=lang,
                )
            if chosen is not None:
                ax.axvline(float(chosen), color="grey", linestyle="--", linewidth=0.8, label="chosen lr")
            if not shown:
                ax.text(
                    0.5,
                    0.5,
                    "no values (no words,\nno parsed answer)",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="dimgrey",
                    transform=ax.transAxes,
                )
            ax.set_xscale("log")
            ax.set_xlim(float(rates[0]) / 2, float(rates[-1]) * 2)
            ax.set_xticks([float(lr) for lr in rates], rates, fontsize=6)
            ax.minorticks_off()
            ax.set_ylim(-0.02, 1.02)
            ax.tick_params(axis="y", labelsize=6)
            ax.grid(alpha=0.3)
            ax.set_title(f"{'/'.join(config)}\n{SURFACE_LABELS[metric]}", fontsize=7)
    legend_outside(fig, flat)
    save(fig, path, f"{title}: surface metrics by learning rate (dashed: the chosen lr)")


def write_surface_by_lr(selection_paths: list[str], path: str, title: str) -> None:
    rows = surface_lr_rows(selection_paths)
    print(f"surface metrics by lr: {len(rows)} (sweep point, metric, language) values")
    surface_lr_figure(rows, path, title)


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
