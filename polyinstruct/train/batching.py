"""Training batches the trainer draws beyond transformers' own: two batchings of `train.batching`.

**length-grouped**: batches of similar lengths over the whole epoch.

transformers' `group_by_length` sorts by length only inside mega-batches (at most 50 batches, and a
quarter of a small data set), so batches still mix short and long examples: 15% of the token slots
were padding on the shipped data (perf/RESULTS.md). Here every epoch is one bucketing pass:

1. shuffle all examples with a generator seeded by (seed, epoch), then sort them by length (a stable
   sort, so equal lengths stay in shuffled order);
2. cut the sorted order into batches of the data loader's batch size: neighbours in length share a
   batch, so each batch pads to a length close to all of its examples';
3. shuffle the order of the full batches with the same generator; a last, smaller batch (when the
   data set does not divide evenly) stays last, so the data loader cuts exactly these batches.

Every example is seen exactly once per epoch, as with shuffled padded batches. The order depends only
on the lengths, the batch size, the seed and the epoch: every process of a torchrun or DeepSpeed job
computes the same order and accelerate hands whole batches to each process in turn; a resumed run
skips into the same order it was interrupted in.

**tokens**: token-budget batches, as pasero builds them (Chirkova & Nikoulina's trainer).

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
from collections.abc import Iterator, Sequence

import numpy as np

from polyinstruct.io import InputError


def epoch_order(lengths: Sequence[int], batch_size: int, seed: int, epoch: int = 0) -> list[int]:
    """Example indices for one epoch: length-sorted batches of `batch_size`, in shuffled batch order."""
    if batch_size < 1:
        raise ValueError(f"batch size must be at least 1, not {batch_size}")
    n = len(lengths)
    rng = np.random.default_rng([seed, epoch])
    shuffled = rng.permutation(n)
    by_length = shuffled[np.argsort(np.asarray(lengths, dtype=np.int64)[shuffled], kind="stable")]
    full = n // batch_size
    batches = by_length[: full * batch_size].reshape(full, batch_size)
    order = batches[rng.permutation(full)].reshape(-1)
    return np.concatenate([order, by_length[full * batch_size :]]).tolist()


def batches(order: Sequence[int], batch_size: int) -> list[list[int]]:
    """The batches a data loader of `batch_size` cuts from `order`."""
    return [list(order[i : i + batch_size]) for i in range(0, len(order), batch_size)]


def padding_share(lengths: Sequence[int], order: Sequence[int], batch_size: int) -> float:
    """Share of the token slots that are padding when `order` is cut into padded batches of `batch_size`."""
    slots = real = 0
    for batch in batches(order, batch_size):
        sizes = [lengths[i] for i in batch]
        slots += max(sizes) * len(sizes)
        real += sum(sizes)
    return 1 - real / slots if slots else 0.0


class LengthBucketSampler:
    """A torch `Sampler` over `epoch_order`; the trainer calls `set_epoch` at the start of every epoch."""

    def __init__(self, lengths: Sequence[int], batch_size: int, seed: int):
        self.lengths = [int(n) for n in lengths]
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __iter__(self) -> Iterator[int]:
        return iter(epoch_order(self.lengths, self.batch_size, self.seed, self.epoch))

    def __len__(self) -> int:
        return len(self.lengths)


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
