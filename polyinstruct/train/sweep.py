"""Learning-rate sweeps: pick the winning {lr} of one (model, method, dataset, mixture) by a named criterion.

`valid_loss`: the lowest best validation loss. `langid`: the highest share of dev responses in
the expected language over the non-source languages (Chirkova & Nikoulina), ties broken by
validation loss. The choice is written as an artifact (`selection.json`) that the rules for the
`selected` run read, so everything after training follows the winner.
"""

from __future__ import annotations

from pathlib import Path

from polyinstruct.io import InputError, load_jsonl, read_json

CRITERIA = ("valid_loss", "langid")


def langid_correct(score_files: list[str | Path]) -> float | None:
    """Mean over languages of the share of responses whose language ID matched."""
    shares = []
    for path in score_files:
        rows = load_jsonl(path)
        if rows:
            shares.append(sum(bool(r["correct"]) for r in rows) / len(rows))
    return sum(shares) / len(shares) if shares else None


def select(criterion: str, candidates: list[dict]) -> dict:
    """candidates: [{"lr": token, "best_eval_loss": float|None, "langid_correct": float|None}, ...]."""
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
    else:
        key = lambda c: (-(c.get("langid_correct") or 0.0), loss(c), float(c["lr"]))  # noqa: E731
    winner = min(candidates, key=key)
    return {"criterion": criterion, "selected_lr": winner["lr"], "candidates": candidates}


def candidate(lr: str, metrics_path: str | Path, langid_files: list[str | Path] | None = None) -> dict:
    metrics = read_json(metrics_path)
    return {
        "lr": lr,
        "best_eval_loss": metrics.get("best_eval_loss"),
        "final_loss": metrics.get("final_loss"),
        "langid_correct": langid_correct(langid_files) if langid_files else None,
    }


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
