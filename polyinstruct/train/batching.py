"""Token-budget batches, as pasero builds them (Chirkova & Nikoulina's trainer), for the HF trainer.

Pasero (`pasero/tasks/task.py` build_batches, `pasero/utils.py` build_batches) fills a buffer of
`buffer_size` examples, sorts it by length and cuts it greedily into batches whose padded size
(examples x longest example) stays within `batch_size` tokens, then shuffles the batches; an optimiser
step accumulates `virtual_dp_size` batches. `TokenBatchSampler` does the same over the tokenised
training set: the example order is shuffled with the seed, cut into buffers of `buffer_size`, each
buffer sorted by length (stable) and cut into batches of at most `max_tokens` padded tokens, and the
batches shuffled. The batches are formed once; each epoch shuffles their order again (seeded by
epoch), so every epoch has the same number of batches and the trainer's step count is exact
(pasero re-forms batches from a stream it samples; the difference is which examples share a batch).
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from polyinstruct.io import InputError


def token_batches(lengths: list[int], max_tokens: int, buffer_size: int, seed: int) -> list[list[int]]:
    """Indices grouped into batches of at most `max_tokens` padded tokens (see the module docstring)."""
    too_long = [i for i, n in enumerate(lengths) if n > max_tokens]
    if too_long:
        raise InputError(
            f"config key 'train.batch_tokens': {max_tokens} tokens cannot hold example {too_long[0]} "
            f"({lengths[too_long[0]]} tokens); set it to at least train.max_length"
        )
    rng = random.Random(seed)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    batches: list[list[int]] = []
    for start in range(0, len(order), buffer_size):
        buffer = sorted(order[start : start + buffer_size], key=lambda i: lengths[i])
        batch: list[int] = []
        longest = 0
        for index in buffer:
            if batch and max(longest, lengths[index]) * (len(batch) + 1) > max_tokens:
                batches.append(batch)
                batch, longest = [], 0
            batch.append(index)
            longest = max(longest, lengths[index])
        if batch:
            batches.append(batch)
    rng.shuffle(batches)
    return batches


class TokenBatchSampler:
    """A batch sampler (a DataLoader's `batch_sampler`) of token-budget batches, reshuffled per epoch.

    `set_epoch` is called by the trainer's data loader (accelerate); `sampler` points back at this
    object so accelerate's sharded wrapper finds `set_epoch` too."""

    def __init__(self, lengths: list[int], max_tokens: int, buffer_size: int, seed: int):
        self.max_tokens = max_tokens
        self.seed = seed
        self.epoch = 0
        self.batches = token_batches(list(lengths), max_tokens, buffer_size, seed)

    @property
    def sampler(self) -> TokenBatchSampler:
        return self

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self) -> Iterator[list[int]]:
        order = list(range(len(self.batches)))
        random.Random(f"{self.seed}/{self.epoch}").shuffle(order)
        for i in order:
            yield list(self.batches[i])


def accumulation(batches_per_step: int, devices: int) -> int:
    """Per-device accumulation steps so that one optimiser step sees `batches_per_step` batches in all
    (pasero's virtual_dp_size, normalised by the device count)."""
    if batches_per_step % devices:
        raise InputError(
            f"config key 'train.accumulate_batches': {batches_per_step} batches per step cannot be shared by "
            f"{devices} devices; make it a multiple of the device count"
        )
    return batches_per_step // devices
