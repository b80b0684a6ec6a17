"""Benchmark tables and figures: MT scores per direction and lm-eval results per task, base against tuned.

BayLing 2's Table 1 averages FLORES BLEU and COMET (x100) over the 100 languages X per direction group
(X->en, en->X, X->zh, zh->X) for each foundation model and its tuned version; its Figures 6-7 are
per-language BLEU bars of those models, one figure per direction group. Here: one CSV row per (run, test
set, direction) and per (run, task, metric); Table 1 (table1.csv/.md) for every test set with pivots
(X<->pivot directions), runs of a model side by side with its base run; per-language bars per (test set,
metric, direction group, model); test sets of explicit pairs (WMT22) get per-direction bars. COMET is
stored as unbabel-comet reports it (0-1) in mt.csv and shown x100, as the paper writes it, in the
Markdown tables and figures.
"""

from __future__ import annotations

import csv
import io
from functools import partial
from pathlib import Path

from polyinstruct.io import read_json, write_text
from polyinstruct.report.plotting import pyplot, save
from polyinstruct.workflow.paths import RUN_KEYS, Run, labels

RUN = RUN_KEYS
MT_COLUMNS = [
    *RUN,
    "testset",
    "src",
    "tgt",
    "segments",
    "bleu",
    "chrf",
    "spbleu",
    "comet",
    "bleu_signature",
    "spbleu_signature",
]
LM_COLUMNS = [*RUN, "task", "metric", "value", "stderr", "n_samples"]
TABLE1_COLUMNS = [*RUN, "testset", "group", "languages", "bleu", "comet_x100"]
COMET_SCALE = 100  # the paper writes COMET x100


def pivots(config: dict) -> dict[str, list[str]]:
    """{test set: pivots} of the MT test sets of X<->pivot directions (FLORES-style; not explicit pairs)."""
    return {
        name: list(spec.get("pivots") or [])
        for name, spec in config["mt_eval"]["testsets"].items()
        if not spec.get("pairs")
    }


def direction_group(src: str, tgt: str, pivot_languages: list[str]) -> str | None:
    """`X->en` for a direction into a pivot from a non-pivot, `en->X` out of one; None between pivots."""
    if tgt in pivot_languages and src not in pivot_languages:
        return f"X->{tgt}"
    if src in pivot_languages and tgt not in pivot_languages:
        return f"{src}->X"
    return None


def group_order(pivot_languages: list[str]) -> list[str]:
    """The paper's column order: X->en, en->X, X->zh, zh->X (pivots in config order)."""
    return [g for p in pivot_languages for g in (f"X->{p}", f"{p}->X")]


def run_labeller(rows: list[dict]):
    """A function row -> the label of its run, the dataset added where labels collide (`paths.labels`)."""
    found = labels(Run(*(str(r[k]) for k in RUN_KEYS)) for r in rows)
    return lambda row: found[Run(*(str(row[k]) for k in RUN_KEYS))]


def mt_rows(score_paths: list[str], comet_paths: list[str]) -> list[dict]:
    comet = {}
    for path in comet_paths:
        c = read_json(path)
        comet[(*(c["run"][k] for k in RUN), c["testset"], c["src"], c["tgt"])] = c["system_score"]
    rows = []
    for path in score_paths:
        s = read_json(path)
        key = (*(s["run"][k] for k in RUN), s["testset"], s["src"], s["tgt"])
        metrics = s["metrics"]
        rows.append(
            {
                **{k: s["run"][k] for k in RUN},
                "testset": s["testset"],
                "src": s["src"],
                "tgt": s["tgt"],
                "segments": s["segments"],
                **{m: round(metrics[m]["score"], 4) if m in metrics else None for m in ("bleu", "chrf", "spbleu")},
                "comet": round(comet[key], 4) if key in comet else None,
                "bleu_signature": metrics.get("bleu", {}).get("signature"),
                "spbleu_signature": metrics.get("spbleu", {}).get("signature"),
            }
        )
    return rows


def lm_rows(paths: list[str]) -> list[dict]:
    rows = []
    for path in paths:
        r = read_json(path)
        run = {k: r["run"][k] for k in RUN}
        for task, metrics in sorted(r.get("results", {}).items()):
            n = (r.get("n-samples") or {}).get(task, {}).get("effective")
            for key, value in sorted(metrics.items()):
                name, _, flt = key.partition(",")
                if name in ("alias", "sample_len") or name.endswith("_stderr") or not isinstance(value, (int, float)):
                    continue
                stderr = metrics.get(f"{name}_stderr,{flt}")
                rows.append(
                    {
                        **run,
                        "task": task,
                        "metric": name,
                        "value": round(float(value), 4),
                        "stderr": round(float(stderr), 4) if isinstance(stderr, (int, float)) else None,
                        "n_samples": n,
                    }
                )
    return rows


def _ordered_runs(rows: list[dict]) -> list[Run]:
    """Runs grouped by model (in order of appearance), each model's base run first: base vs tuned."""
    runs = list(dict.fromkeys(Run(*(str(r[k]) for k in RUN_KEYS)) for r in rows))
    models = list(dict.fromkeys(r.model for r in runs))
    return sorted(runs, key=lambda r: (models.index(r.model), not r.is_base))


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def table1_rows(rows: list[dict], pivot_sets: dict[str, list[str]]) -> list[dict]:
    """Per (run, test set with pivots, direction group): mean BLEU and mean COMET x100 over the languages X
    (the directions of the group the run was scored on; `languages` counts them)."""
    out = []
    for testset, pivot_languages in pivot_sets.items():
        part = [r for r in rows if r["testset"] == testset]
        for run in _ordered_runs(part):
            mine = [r for r in part if Run(*(str(r[k]) for k in RUN_KEYS)) == run]
            for group in group_order(pivot_languages):
                cells = [r for r in mine if direction_group(r["src"], r["tgt"], pivot_languages) == group]
                if not cells:
                    continue
                bleu = _mean([r["bleu"] for r in cells if r["bleu"] is not None])
                comet = _mean([r["comet"] * COMET_SCALE for r in cells if r["comet"] is not None])
                out.append(
                    {
                        **run.keys,
                        "testset": testset,
                        "group": group,
                        "languages": len(cells),
                        "bleu": None if bleu is None else round(bleu, 2),
                        "comet_x100": None if comet is None else round(comet, 2),
                    }
                )
    return out


def table1_markdown(table: list[dict], mt: list[dict], pivot_sets: dict[str, list[str]], title: str) -> str:
    """BayLing 2's Table 1: one row per run (each model's base run first), BLEU and COMET (x100) per group."""
    out = [f"# {title}: Table 1, translation averaged over the languages X", ""]
    if not table:
        return "\n".join(out + ["No MT test set of X<->pivot directions configured.", ""])
    for testset, pivot_languages in pivot_sets.items():
        part = [r for r in table if r["testset"] == testset]
        if not part:
            continue
        groups = [g for g in group_order(pivot_languages) if any(r["group"] == g for r in part)]
        xs = sorted(
            {
                r["src"] if r["tgt"] in pivot_languages else r["tgt"]
                for r in mt
                if r["testset"] == testset and direction_group(r["src"], r["tgt"], pivot_languages)
            }
        )
        out += [
            f"## {testset}",
            "",
            f"X: {len(xs)} language{'s' if len(xs) != 1 else ''} ({', '.join(xs)}); BLEU (sacrebleu) and COMET "
            f"x100, means over X per direction group; (n=k) marks a mean over the k languages a run has scores for.",
            "",
            "| run | " + " | ".join(f"{g} BLEU | {g} COMET" for g in groups) + " |",
            "|---|" + "---:|---:|" * len(groups),
        ]
        runs = list(dict.fromkeys(Run(*(str(r[k]) for k in RUN_KEYS)) for r in part))
        label = labels(runs)
        for run in runs:
            cell = {r["group"]: r for r in part if Run(*(str(r[k]) for k in RUN_KEYS)) == run}
            values = []
            for g in groups:
                row = cell.get(g)
                mark = "" if row is None or row["languages"] == len(xs) else f" (n={row['languages']})"
                values += [_fmt(row and row["bleu"]) + mark, _fmt(row and row["comet_x100"]) + mark]
            out.append(f"| {label[run]} | " + " | ".join(values) + " |")
        out.append("")
    return "\n".join(out)


def to_csv(rows: list[dict], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _fmt(value) -> str:
    return "–" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)


def _pivot(rows: list[dict], row_key, value_key: str, heading: str) -> list[str]:
    run_label = run_labeller(rows)
    runs = list(dict.fromkeys(run_label(r) for r in rows))
    keys = list(dict.fromkeys(row_key(r) for r in rows))
    cell = {(row_key(r), run_label(r)): r[value_key] for r in rows}
    lines = [f"| {heading} | " + " | ".join(runs) + " |", "|---" * (len(runs) + 1) + "|"]
    lines += [f"| {k} | " + " | ".join(_fmt(cell.get((k, run))) for run in runs) + " |" for k in keys]
    return lines


def _shown(row: dict, metric: str) -> float | None:
    """A metric as tables and figures show it: COMET x100, the others as sacrebleu reports them."""
    value = row.get(metric)
    return value * COMET_SCALE if metric == "comet" and value is not None else value


def mt_markdown(rows: list[dict], title: str) -> str:
    out = [f"# {title}: translation benchmarks", ""]
    if not rows:
        return "\n".join(out + ["No MT test sets configured.", ""])
    for testset in dict.fromkeys(r["testset"] for r in rows):
        part = [r for r in rows if r["testset"] == testset]
        for metric in ("bleu", "spbleu", "chrf", "comet"):
            if all(r[metric] is None for r in part):
                continue
            shown = [{**r, metric: _shown(r, metric)} for r in part]
            out += [f"## {testset}: {metric}{' (x100)' if metric == 'comet' else ''}", ""]
            out += _pivot(shown, lambda r: f"{r['src']}-{r['tgt']}", metric, "direction") + [""]
        signature = next((r["bleu_signature"] for r in part if r["bleu_signature"]), None)
        if signature:
            out += [f"BLEU signature (first direction): `{signature}`", ""]
    return "\n".join(out)


def lm_markdown(rows: list[dict], title: str) -> str:
    out = [f"# {title}: lm-evaluation-harness", ""]
    if not rows:
        return "\n".join(out + ["No lm-eval tasks configured.", ""])
    for metric in dict.fromkeys(r["metric"] for r in rows):
        out += (
            [f"## {metric}", ""]
            + _pivot([r for r in rows if r["metric"] == metric], lambda r: r["task"], "value", "task")
            + [""]
        )
    return "\n".join(out)


MAX_FIGURE_INCHES = 40  # 100 languages x a few runs still fit (matplotlib refuses images over 2^16 pixels)


def bars(rows: list[dict], metric: str, key, path: Path, title: str, ylabel: str | None = None) -> bool:
    """Grouped bars: one group per key (direction, language or task), one bar per run (base runs hatched);
    False when nothing to draw."""
    rows = [r for r in rows if r.get(metric) is not None]
    if not rows:
        return False
    plt = pyplot()
    runs = _ordered_runs(rows)
    label = labels(runs)
    keys = list(dict.fromkeys(key(r) for r in rows))
    cell = {(key(r), Run(*(str(r[k]) for k in RUN_KEYS))): r[metric] for r in rows}
    width = 0.8 / len(runs)
    inches = min(MAX_FIGURE_INCHES, max(5, 0.9 * len(keys) * max(1, len(runs) / 2)))
    fig, ax = plt.subplots(figsize=(inches, 3.5))
    for i, run in enumerate(runs):
        values = [cell.get((k, run)) or 0 for k in keys]
        ax.bar(
            [j + i * width for j in range(len(keys))],
            values,
            width,
            label=label[run],
            hatch="//" if run.is_base else None,
        )
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(keys))], keys, rotation=45, ha="right")
    ax.set_ylabel(ylabel or metric)
    ax.legend(fontsize=7)
    save(fig, path, title)
    return True


def _language_x(row: dict, pivot_languages: list[str]) -> str:
    return row["src"] if row["tgt"] in pivot_languages else row["tgt"]


def group_slug(group: str) -> str:
    """A direction group as a file name part: X->en -> X-en."""
    return group.replace("->", "-")


def mt_figures(mt: list[dict], pivot_sets: dict[str, list[str]], directory: Path, title: str) -> list[str]:
    """Per-language bars (BayLing 2's Figures 6-7): per test set with pivots, metric, direction group and model,
    one group of bars per language X, the model's base run beside its tuned runs; per-direction bars for test
    sets of explicit pairs."""
    written = []
    for testset in dict.fromkeys(r["testset"] for r in mt):
        part = [r for r in mt if r["testset"] == testset]
        for metric in ("bleu", "comet"):
            shown = [{**r, metric: _shown(r, metric)} for r in part]
            ylabel = "COMET (x100)" if metric == "comet" else "BLEU"
            if testset not in pivot_sets:
                path = directory / f"{testset}_{metric}_by_direction.png"
                if bars(
                    shown, metric, lambda r: f"{r['src']}-{r['tgt']}", path, f"{title}: {testset} {ylabel}", ylabel
                ):
                    written.append(str(path))
                continue
            pivot_languages = pivot_sets[testset]
            for group in group_order(pivot_languages):
                for model in dict.fromkeys(r["model"] for r in shown):
                    cells = [
                        r
                        for r in shown
                        if r["model"] == model and direction_group(r["src"], r["tgt"], pivot_languages) == group
                    ]
                    path = directory / f"{testset}_{metric}_{group_slug(group)}_{model}.png"
                    label = f"{title}: {testset} {group} {ylabel}, {model}"
                    if bars(
                        cells,
                        metric,
                        partial(_language_x, pivot_languages=pivot_languages),
                        path,
                        label,
                        ylabel,
                    ):
                        written.append(str(path))
    return written


def write(
    mt_paths: list[str],
    comet_paths: list[str],
    lm_paths: list[str],
    out: dict[str, str],
    title: str,
    pivot_sets: dict[str, list[str]] | None = None,
) -> list[str]:
    """Write the tables (Table 1 among them) and figures; returns the figures written."""
    mt, lm = mt_rows(mt_paths, comet_paths), lm_rows(lm_paths)
    pivot_sets = pivot_sets or {}
    table = table1_rows(mt, pivot_sets)
    write_text(out["mt_csv"], to_csv(mt, MT_COLUMNS))
    write_text(out["mt_md"], mt_markdown(mt, title))
    write_text(out["table1_csv"], to_csv(table, TABLE1_COLUMNS))
    write_text(out["table1_md"], table1_markdown(table, mt, pivot_sets, title))
    write_text(out["lm_csv"], to_csv(lm, LM_COLUMNS))
    write_text(out["lm_md"], lm_markdown(lm, title))
    figures = Path(out["figures"])
    figures.mkdir(parents=True, exist_ok=True)
    written = mt_figures(mt, pivot_sets, figures, title)
    for metric in dict.fromkeys(r["metric"] for r in lm):
        path = figures / f"lm_eval_{metric}_by_task.png"
        if bars(
            [{**r, metric: r["value"]} for r in lm if r["metric"] == metric],
            metric,
            lambda r: r["task"],
            path,
            f"{title}: lm-eval {metric}",
        ):
            written.append(str(path))
    return written
