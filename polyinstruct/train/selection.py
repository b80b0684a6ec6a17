"""Which weights a run keeps: the best by validation loss, the last, or every epoch (Weber et al.).

`best` snapshots the model whenever validation loss improves; `every-epoch` snapshots each epoch
into `epochs/epoch-<n>/` and then picks one by validation loss; `last` keeps the final weights.
Snapshots are plain directories the trainer writes (all ranks take part, so ZeRO-3 shards are
gathered), so they survive preemption; the evaluation history comes from the trainer state, which
a resumed run restores from its checkpoint.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

from transformers import TrainerCallback

MODES = ("best", "last", "every-epoch")


def improved(log_history: list[dict]) -> bool:
    """Whether the latest evaluation has a lower loss than every earlier one."""
    losses = [e["eval_loss"] for e in log_history if "eval_loss" in e]
    return bool(losses) and all(losses[-1] < earlier for earlier in losses[:-1])


class Snapshots(TrainerCallback):
    def __init__(self, mode: str, run_dir: Path):
        if mode not in MODES:
            raise ValueError(f"config key 'train.checkpoint_selection': '{mode}' is not one of {', '.join(MODES)}")
        self.mode, self.run_dir = mode, Path(run_dir)
        self.trainer = None  # set once the trainer exists; snapshots are written through it

    @property
    def best_dir(self) -> Path:
        return self.run_dir / ".best"

    def epoch_dir(self, epoch: int) -> Path:
        return self.run_dir / "epochs" / f"epoch-{epoch}"

    def _save(self, path: Path, state) -> None:
        tmp = path.with_name(path.name + ".tmp")
        if state.is_world_process_zero:
            shutil.rmtree(tmp, ignore_errors=True)
        self.trainer.save_model(str(tmp))
        if state.is_world_process_zero:
            self.trainer.processing_class.save_pretrained(str(tmp))
            (tmp / "step.txt").write_text(f"{state.global_step}\n", encoding="utf-8")
            shutil.rmtree(path, ignore_errors=True)
            tmp.rename(path)

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if self.mode == "best" and improved(state.log_history):
            self._save(self.best_dir, state)
        elif self.mode == "every-epoch":
            self._save(self.epoch_dir(round(state.epoch)), state)
        return control


def evaluations(log_history: list[dict]) -> list[dict]:
    return [
        {"step": e["step"], "epoch": e.get("epoch"), "eval_loss": e["eval_loss"]}
        for e in log_history
        if "eval_loss" in e
    ]


def choose(mode: str, log_history: list[dict], run_dir: Path) -> dict:
    """The record of the choice (written as checkpoints.json): what was evaluated and what was kept."""
    evals = evaluations(log_history)
    record = {"mode": mode, "evaluations": evals, "source": "final"}
    if mode == "last" or not evals:
        record["reason"] = "last weights" if mode == "last" else "no validation data: kept the last weights"
        return record
    best = min(evals, key=lambda e: (e["eval_loss"], e["step"]))
    record.update(best_step=best["step"], best_eval_loss=best["eval_loss"], reason="lowest validation loss")
    if mode == "best":
        record["source"] = ".best"
    else:
        record["source"] = f"epochs/epoch-{round(best['epoch'])}"
        record["kept_epochs"] = sorted(p.name for p in (Path(run_dir) / "epochs").glob("epoch-*"))
    if not math.isfinite(best["eval_loss"]):
        raise ValueError(f"{run_dir}: validation loss is {best['eval_loss']}; training diverged")
    return record
