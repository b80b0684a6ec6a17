"""Benchmark tables and figures: MT scores per direction and lm-eval results per task, base against tuned.

BayLing 2's figures are per-language BLEU bars of the base and the tuned model; its tables are
per-benchmark scores per language. One CSV row per (run, test set, direction) and per (run, task,
metric); Markdown tables put runs side by side.
"""

from __future__ import annotations

import csv
import io
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


def mt_markdown(rows: list[dict], title: str) -> str:
    out = [f"# {title}: translation benchmarks", ""]
    if not rows:
        return "\n".join(out + ["No MT test sets configured.", ""])
    for testset in dict.fromkeys(r["testset"] for r in rows):
        part = [r for r in rows if r["testset"] == testset]
        for metric in ("bleu", "spbleu", "chrf", "comet"):
            if all(r[metric] is None for r in part):
                continue
            out += [f"## {testset}: {metric}", ""]
            out += _pivot(part, lambda r: f"{r['src']}-{r['tgt']}", metric, "direction") + [""]
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


def bars(rows: list[dict], metric: str, key, path: Path, title: str) -> bool:
    """Grouped bars: one group per key (direction or task), one bar per run; False when nothing to draw."""
    rows = [r for r in rows if r.get(metric) is not None]
    if not rows:
        return False
    plt = pyplot()
    run_label = run_labeller(rows)
    runs = list(dict.fromkeys(run_label(r) for r in rows))
    keys = list(dict.fromkeys(key(r) for r in rows))
    cell = {(key(r), run_label(r)): r[metric] for r in rows}
    width = 0.8 / len(runs)
    fig, ax = plt.subplots(figsize=(max(5, 0.9 * len(keys) * max(1, len(runs) / 2)), 3.5))
    for i, run in enumerate(runs):
        values = [cell.get((k, run)) or 0 for k in keys]
        ax.bar(
            [j + i * width for j in range(len(keys))],
            values,
            width,
            label=run,
            hatch="//" if run.endswith("(base)") else None,
        )
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(keys))], keys, rotation=45, ha="right")
    ax.set_ylabel(metric)
    ax.legend(fontsize=7)
    save(fig, path, title)
    return True


def write(
    mt_paths: list[str], comet_paths: list[str], lm_paths: list[str], out: dict[str, str], title: str
) -> list[str]:
    """Write the tables and figures; returns the figures written."""
    mt, lm = mt_rows(mt_paths, comet_paths), lm_rows(lm_paths)
    write_text(out["mt_csv"], to_csv(mt, MT_COLUMNS))
    write_text(out["mt_md"], mt_markdown(mt, title))
    write_text(out["lm_csv"], to_csv(lm, LM_COLUMNS))
    write_text(out["lm_md"], lm_markdown(lm, title))
    figures = Path(out["figures"])
    figures.mkdir(parents=True, exist_ok=True)
    written = []
    for testset in dict.fromkeys(r["testset"] for r in mt):
        part = [r for r in mt if r["testset"] == testset]
        for metric in ("bleu", "comet"):
            path = figures / f"{testset}_{metric}_by_direction.png"
            if bars(part, metric, lambda r: f"{r['src']}-{r['tgt']}", path, f"{title}: {testset} {metric}"):
                written.append(str(path))
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
