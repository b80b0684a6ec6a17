"""Learning-rate sweeps: pick the winning {lr} of one (model, method, dataset, mixture) by a named criterion.

`valid_loss`: the lowest best validation loss. `langid`: the highest share of dev responses in the
expected language over the selection languages. `surface` (Chirkova & Nikoulina, who chose the lr
"based on surface metrics"): the highest weighted mean of the surface metrics of the dev responses,
each averaged over the selection languages: language-ID correctness, the share of words passing
Hunspell, and relevance (0/1, a chat model's verdict). Ties go to the lower validation loss, then the
lower lr. The choice is written as an artifact (`selection.json`) holding every candidate's metrics
per language, their means, the weights and the combined score, and the rules for the `selected` run
read it, so everything after training follows the winner.
"""

from __future__ import annotations

from pathlib import Path

from polyinstruct.io import InputError, load_jsonl, read_json

CRITERIA = ("valid_loss", "langid", "surface")
METRICS = ("langid", "spelling", "relevance")


def langid_share(path: str | Path) -> float | None:
    """Share of one file's responses whose language ID matched the expected language."""
    rows = load_jsonl(path)
    return sum(bool(r["correct"]) for r in rows) / len(rows) if rows else None


def spelling_share(path: str | Path) -> float | None:
    """Mean share of correctly spelled words, from a surface-metrics summary."""
    return (read_json(path)["summary"].get("spelling") or {}).get("mean_spelling")


def relevance_rate(path: str | Path) -> float | None:
    """Share of relevant responses among the judged ones (unparsed answers left out)."""
    ratings = [r["rating"] for r in load_jsonl(path) if r.get("rating") is not None]
    return sum(ratings) / len(ratings) if ratings else None


READERS = {"langid": langid_share, "spelling": spelling_share, "relevance": relevance_rate}


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def langid_correct(score_files) -> float | None:
    """Mean over languages of the share of responses whose language ID matched."""
    files = score_files.values() if isinstance(score_files, dict) else score_files
    return _mean(langid_share(p) for p in files)


def metric(name: str, files: dict[str, str | Path]) -> dict:
    """{by_language: {lang: value}, mean}: one surface metric of one candidate."""
    by_language = {lang: READERS[name](path) for lang, path in files.items()}
    return {"by_language": by_language, "mean": _mean(by_language.values())}


def candidate(lr: str, files: dict) -> dict:
    """One sweep point's record: its losses, and every surface metric the selection read, per language.

    `files`: {"metrics": path, "langid" / "spelling" / "relevance": {lang: path}}."""
    metrics = read_json(files["metrics"])
    return {
        "lr": lr,
        "best_eval_loss": metrics.get("best_eval_loss"),
        "final_loss": metrics.get("final_loss"),
        "langid_correct": langid_correct(files["langid"]) if files.get("langid") else None,
        "metrics": {name: metric(name, files[name]) for name in METRICS if files.get(name)},
    }


def surface_score(metrics: dict, weights: dict[str, float]) -> float:
    """Sum of weight x mean over the weighted metrics, divided by the sum of weights; a metric without a
    value (no response had words, every answer unparsed) counts as 0."""
    total = sum(weights.values())
    if total <= 0:
        raise InputError("config key 'train.lr_selection.weights': at least one weight must be > 0")
    missing = [m for m in weights if m not in metrics]
    if missing:
        raise InputError(f"config key 'train.lr_selection.weights': no {', '.join(missing)} scores to weigh")
    return sum(w * (metrics[m]["mean"] or 0.0) for m, w in weights.items()) / total


def select(criterion: str, candidates: list[dict], weights: dict[str, float] | None = None) -> dict:
    """candidates: `candidate(...)` records. Returns the artifact: criterion, weights, selected_lr, candidates."""
    if criterion not in CRITERIA:
        raise InputError(
            f"config key 'train.lr_selection.criterion': '{criterion}' is not one of {', '.join(CRITERIA)}"
        )
    if not candidates:
        raise InputError("config key 'train.learning_rates': no learning rates to select from")
    inf = float("inf")

    def loss(c):
        return c["best_eval_loss"] if c.get("best_eval_loss") is not None else inf

    if criterion == "valid_loss":
        if all(c.get("best_eval_loss") is None for c in candidates):
            raise InputError(
                "config key 'train.lr_selection.criterion': valid_loss needs a validation split "
                "(config key 'mixtures.valid_fraction' > 0)"
            )
        key = lambda c: (loss(c), float(c["lr"]))  # noqa: E731
    elif criterion == "langid":
        key = lambda c: (-(c.get("langid_correct") or 0.0), loss(c), float(c["lr"]))  # noqa: E731
    else:
        if weights is None:
            raise InputError("config key 'train.lr_selection.weights': the surface criterion needs weights")
        for c in candidates:
            c["score"] = surface_score(c["metrics"], weights)
        key = lambda c: (-c["score"], loss(c), float(c["lr"]))  # noqa: E731
    winner = min(candidates, key=key)
    out = {"criterion": criterion, "selected_lr": winner["lr"], "candidates": candidates}
    if criterion == "surface":
        out["weights"] = dict(weights)
    return out


def chosen_weights(
    selection_file: str | Path, model: str, method: str, dataset: str, mixture: str, merged: bool = False
) -> tuple[str, str]:
    """(weights directory, lr token) of the winner a selection artifact names (its merged LoRA weights
    when `merged`)."""
    from polyinstruct.workflow.paths import Run

    lr = read_json(selection_file)["selected_lr"]
    return Run(model, method, dataset, mixture, lr).weights(merged=merged), lr


def run_weights(inputs, run: dict, merged: bool = False) -> str | None:
    """The weights a tuned run uses: its own (`inputs.weights`), or for the `selected` lr the sweep
    winner's (merged LoRA weights when `merged`), whose lr is noted in `run["selected_lr"]`. None for
    base models."""
    if "selection" in inputs.keys():
        weights, run["selected_lr"] = chosen_weights(
            inputs.selection, run["model"], run["method"], run["dataset"], run["mixture"], merged
        )
        return weights
    return inputs.get("weights")
