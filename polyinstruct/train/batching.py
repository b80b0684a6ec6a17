"""Length-grouped batches over the whole epoch: the `length-grouped` batching of `train.batching`.

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
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np


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
