"""What a run actually saw: examples, real tokens, and the batch slots padding took.

The trainer reports every micro-batch here; totals are summed over processes at each optimiser
step (so all ranks hold the same numbers), written into every checkpoint and read back on resume,
so an interrupted run reports the same totals as an uninterrupted one.
"""

from __future__ import annotations

import json
from pathlib import Path

from transformers import TrainerCallback

FILE = "counters.json"
FIELDS = ("examples", "tokens", "slots", "train_seconds")


def batch_counts(inputs: dict) -> tuple[int, int, int]:
    """(examples, real tokens, token slots) of one collated batch, padded or padding-free."""
    ids = inputs["input_ids"]
    if "attention_mask" in inputs:
        return int(ids.shape[0]), int(inputs["attention_mask"].sum()), int(ids.numel())
    if "position_ids" in inputs:  # padding-free: sequences concatenated, each starting at position 0
        return int((inputs["position_ids"] == 0).sum()), int(ids.numel()), int(ids.numel())
    return int(ids.shape[0]), int(ids.numel()), int(ids.numel())


class Counters(TrainerCallback):
    def __init__(self):
        self.totals = dict.fromkeys(FIELDS, 0)
        self._pending = [0, 0, 0]
        self._clock: float | None = None
        # totals once this process's first optimiser step ended (start-up: allocation, kernel selection)
        self.after_first_step: dict | None = None

    def add(self, inputs: dict) -> None:
        for i, n in enumerate(batch_counts(inputs)):
            self._pending[i] += n

    def _reduce(self) -> list[int]:
        import torch
        import torch.distributed as dist

        pending, self._pending = self._pending, [0, 0, 0]
        if dist.is_available() and dist.is_initialized():
            device = "cuda" if torch.cuda.is_available() and dist.get_backend() == "nccl" else "cpu"
            tensor = torch.tensor(pending, dtype=torch.int64, device=device)
            dist.all_reduce(tensor)
            return tensor.tolist()
        return pending

    def on_train_begin(self, args, state, control, **kwargs):
        import time

        self._clock = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        import time

        for field, n in zip(FIELDS, self._reduce()):
            self.totals[field] += n
        now = time.perf_counter()
        self.totals["train_seconds"] += now - (self._clock or now)
        self._clock = now
        if self.after_first_step is None:
            self.after_first_step = dict(self.totals)

    def on_save(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            checkpoint = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if checkpoint.is_dir():
                (checkpoint / FILE).write_text(json.dumps(self.totals), encoding="utf-8")

    def restore(self, checkpoint: str | Path) -> None:
        path = Path(checkpoint) / FILE
        if path.exists():
            self.totals.update(json.loads(path.read_text(encoding="utf-8")))

    @property
    def steady(self) -> dict | None:
        """Totals without this process's first step (its start-up), or None before a second step ended."""
        first = self.after_first_step
        if first is None or self.totals["train_seconds"] <= first["train_seconds"]:
            return None
        return {field: self.totals[field] - first[field] for field in FIELDS}

    @property
    def padding_share(self) -> float | None:
        slots = self.totals["slots"]
        return round(1 - self.totals["tokens"] / slots, 4) if slots else None
