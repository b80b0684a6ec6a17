"""Experiment tables (CSV, Markdown) and the scores-per-language figure, from score summaries."""
from __future__ import annotations

from pathlib import Path

from polyinstruct.io import atomic_path, read_json, write_text

COLUMNS = ["model", "method", "dataset", "mixture", "lr", "evalset", "lang", "n", "lang_correct_rate",
           "judge_mean", "chen_score_mean", "chen_score_sum", "judge_parse_failures", "gating_drop"]


def load_table(summary_paths: list[str]):
    import polars as pl

    rows = []
    for path in summary_paths:
        data = read_json(path)
        rows.append({**data["run"], "evalset": data["evalset"], "lang": data["lang"],
                     **{k: data["summary"][k] for k in COLUMNS if k in data["summary"]}})
    schema = {c: pl.Float64 for c in ("lang_correct_rate", "judge_mean", "chen_score_mean", "gating_drop")}
    schema.update({c: pl.Int64 for c in ("n", "chen_score_sum", "judge_parse_failures")})
    schema.update({c: pl.String for c in ("model", "method", "dataset", "mixture", "lr", "evalset", "lang")})
    return pl.DataFrame(rows, schema=schema).select(COLUMNS).sort(["evalset", "model", "method", "mixture", "lr", "lang"])


def run_label(row: dict) -> str:
    if row["method"] == "base":
        return f"{row['model']} base"
    return f"{row['model']} {row['method']} {row['mixture']} lr={row['lr']}"


def _fmt(value) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def markdown(table, title: str) -> str:
    """Per eval set: Chen score (mean, 0-3) with LID rate in brackets, runs x languages."""
    import polars as pl

    out = [f"# {title}", "",
           "Cells: Chen et al. score (judge rating x language correct, mean over prompts, 0-3) "
           "and, in brackets, the share of responses fastText identifies as the prompt's language. "
           "Judge answers that did not parse are excluded and counted in the last column.", ""]
    for evalset in table["evalset"].unique(maintain_order=True):
        part = table.filter(pl.col("evalset") == evalset)
        langs = part["lang"].unique(maintain_order=True).to_list()
        out += [f"## {evalset}", "", "| run | " + " | ".join(langs) + " | parse failures |",
                "|---|" + "---|" * (len(langs) + 1)]
        for (model, method, dataset, mixture, lr), group in part.group_by(
                ["model", "method", "dataset", "mixture", "lr"], maintain_order=True):
            cells = {r["lang"]: r for r in group.iter_rows(named=True)}
            label = run_label({"model": model, "method": method, "mixture": mixture, "lr": lr})
            values = [f"{_fmt(cells[l]['chen_score_mean'])} ({_fmt(cells[l]['lang_correct_rate'])})" if l in cells else "–"
                      for l in langs]
            out.append(f"| {label} | " + " | ".join(values) + f" | {group['judge_parse_failures'].sum()} |")
        out.append("")
    return "\n".join(out)


def figure(table, path: str | Path, title: str) -> None:
    """Score per language, one series per mixture (base model dashed), one panel per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import polars as pl

    models = table["model"].unique(maintain_order=True).to_list()
    fig, axes = plt.subplots(1, len(models), figsize=(5.5 * len(models), 4), squeeze=False)
    for ax, model in zip(axes[0], models):
        part = table.filter(pl.col("model") == model)
        langs = part["lang"].unique(maintain_order=True).to_list()
        for (method, mixture, lr), group in part.group_by(["method", "mixture", "lr"], maintain_order=True):
            by_lang = {r["lang"]: r["chen_score_mean"] for r in group.iter_rows(named=True)}
            ys = [by_lang.get(l) for l in langs]
            ys = [float("nan") if y is None else y for y in ys]
            label = "base" if method == "base" else f"{mixture} ({method}, lr={lr})"
            ax.plot(langs, ys, marker="o", linestyle="--" if method == "base" else "-", label=label)
        ax.set_title(model)
        ax.set_xlabel("test language")
        ax.set_ylabel("Chen score (mean, 0-3)")
        ax.set_ylim(0, 3.05)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=Path(path).suffix.lstrip(".") or "png", dpi=120)
    plt.close(fig)


def write_report(summary_paths: list[str], csv_path: str, md_path: str, png_path: str, title: str) -> None:
    table = load_table(summary_paths)
    with atomic_path(csv_path) as tmp:
        table.write_csv(tmp)
    write_text(md_path, markdown(table, title))
    figure(table, png_path, title)
