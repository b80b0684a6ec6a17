"""Training budgets: batch arithmetic, and a token budget that ends a run once it has seen enough.

Chen et al. compare mixtures at a fixed budget and hold the global batch constant across GPU
counts through gradient accumulation; both are computed here, not assumed.
"""

from __future__ import annotations

import math

from transformers import TrainerCallback


def gradient_accumulation(global_batch: int, micro_batch: int, devices: int) -> int:
    """Steps to accumulate so that micro x devices x steps == global batch."""
    per_step = micro_batch * devices
    if global_batch % per_step:
        raise ValueError(
            f"config key 'train.global_batch_size': {global_batch} is not a multiple of "
            f"micro_batch_size x devices = {micro_batch} x {devices}"
        )
    return global_batch // per_step


def steps_per_epoch(examples: int, global_batch: int) -> int:
    return max(1, math.ceil(examples / global_batch))


def steps_for_tokens(max_tokens: int, tokens_per_epoch: int, examples: int, global_batch: int) -> int:
    """Optimiser steps expected to consume `max_tokens` (sets the schedule's length; `TokenBudget` stops)."""
    if tokens_per_epoch <= 0:
        raise ValueError("the training set has no tokens")
    return max(1, math.ceil(max_tokens / tokens_per_epoch * steps_per_epoch(examples, global_batch)))


def plan(settings: dict, examples: int, tokens_per_epoch: int, steps_per_epoch: int | None = None) -> dict:
    """Epochs and max_steps for the trainer, from whichever budget the config sets.

    `max_tokens` wins over `max_steps`, which wins over `epochs`; the budget kind is recorded.
    `steps_per_epoch` is given when batches are not a fixed number of examples (token batches).
    """
    if settings.get("max_tokens"):
        if steps_per_epoch is not None:
            steps = max(1, math.ceil(settings["max_tokens"] / max(1, tokens_per_epoch) * steps_per_epoch))
        else:
            steps = steps_for_tokens(settings["max_tokens"], tokens_per_epoch, examples, settings["global_batch_size"])
        return {"kind": "tokens", "epochs": math.ceil(settings["max_tokens"] / tokens_per_epoch), "max_steps": steps}
    if settings.get("max_steps", -1) > 0:
        return {"kind": "steps", "epochs": settings["epochs"], "max_steps": settings["max_steps"]}
    return {"kind": "epochs", "epochs": settings["epochs"], "max_steps": -1}


class TokenBudget(TrainerCallback):
    """Stop (and save) at the first optimiser step after `max_tokens` non-padding tokens were seen.

    `state.num_input_tokens_seen` is summed over all processes by the trainer, so every rank stops
    at the same step.
    """

    def __init__(self, max_tokens: int):
        self.max_tokens = max_tokens

    def on_step_end(self, args, state, control, **kwargs):
        if state.num_input_tokens_seen >= self.max_tokens:
            control.should_training_stop = True
        return control
