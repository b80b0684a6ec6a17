"""Whole-epoch length buckets (train.batching: length-grouped): determinism, coverage, padding, sharding."""

import json

import pytest
from conftest import REPO

from polyinstruct.train import batching


def shipped_lengths() -> list[int]:
    """Lengths (characters) of the 300 shipped polyalpaca examples: the real mix of short and long."""
    lengths = []
    for lang in ("en", "fr", "de"):
        for line in (REPO / "resources/data/polyalpaca" / f"{lang}.jsonl").read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            lengths.append(len(r["instruction"]) + len(r["input"]) + len(r["output"]))
    return lengths


def test_same_seed_and_epoch_give_the_same_order():
    lengths = shipped_lengths()
    first = batching.epoch_order(lengths, 16, seed=3, epoch=0)
    assert first == batching.epoch_order(lengths, 16, seed=3, epoch=0)
    assert first != batching.epoch_order(lengths, 16, seed=3, epoch=1)
    assert first != batching.epoch_order(lengths, 16, seed=4, epoch=0)
    sampler = batching.LengthBucketSampler(lengths, 16, seed=3)
    assert list(sampler) == first and len(sampler) == len(lengths)
    sampler.set_epoch(1)
    assert list(sampler) == batching.epoch_order(lengths, 16, seed=3, epoch=1)


@pytest.mark.parametrize("batch_size", [1, 7, 16, 300, 301])
def test_every_example_is_seen_once_per_epoch(batch_size):
    lengths = shipped_lengths()
    for epoch in range(3):
        assert sorted(batching.epoch_order(lengths, batch_size, seed=0, epoch=epoch)) == list(range(len(lengths)))


def test_batches_are_neighbours_in_length_and_the_short_batch_comes_last():
    lengths = shipped_lengths()  # 300 = 18 batches of 16 and one of 12
    order = batching.epoch_order(lengths, 16, seed=5)
    cut = batching.batches(order, 16)
    assert [len(b) for b in cut] == [16] * 18 + [12]
    # each batch is a run of the length-sorted order: no example outside it lies strictly between its extremes
    for batch in cut:
        low, high = min(lengths[i] for i in batch), max(lengths[i] for i in batch)
        inside = [i for i in range(len(lengths)) if low < lengths[i] < high]
        assert set(inside) <= set(batch)
    # the full batches are shuffled, not served shortest first
    maxima = [max(lengths[i] for i in b) for b in cut[:-1]]
    assert maxima != sorted(maxima) and maxima != sorted(maxima, reverse=True)


def test_padding_share_is_the_least_possible_and_below_transformers_mega_batches():
    import torch
    from transformers.trainer_pt_utils import LengthGroupedSampler

    lengths = shipped_lengths()
    ours = batching.padding_share(lengths, batching.epoch_order(lengths, 16, seed=0), 16)
    plain = batching.padding_share(
        lengths, torch.randperm(len(lengths), generator=torch.Generator().manual_seed(0)), 16
    )
    mega = list(LengthGroupedSampler(16, lengths=lengths, generator=torch.Generator().manual_seed(0)))
    theirs = batching.padding_share(lengths, mega, 16)
    # the least padding any cut into batches of 16 can have: that of the sorted order itself (here 5.7% of
    # characters; in tokens with the chat template, what training pads, perf/bench_train.py measures)
    assert ours == pytest.approx(batching.padding_share(lengths, sorted(range(300), key=lengths.__getitem__), 16))
    assert ours < 0.06 < 2 * ours < theirs < plain


def test_padding_share_counts_slots():
    assert batching.padding_share([2, 4, 4, 1], [0, 1, 2, 3], 2) == pytest.approx(1 - 11 / 16)
    with pytest.raises(ValueError, match="batch size must be at least 1"):
        batching.epoch_order([1, 2], 0, seed=0)


@pytest.mark.parametrize("processes", [2, 3])
def test_accelerate_gives_each_process_whole_buckets(processes):
    """torchrun/DeepSpeed: accelerate shards the batch sampler by whole batches, so each process's micro-batch
    is one of our length buckets, and together the processes see every example of the epoch."""
    from accelerate.data_loader import BatchSamplerShard
    from torch.utils.data import BatchSampler

    lengths = shipped_lengths()
    sampler = batching.LengthBucketSampler(lengths, 8, seed=1)
    sampler.set_epoch(2)
    order = list(sampler)
    buckets = batching.batches(order, 8)
    seen = []
    for rank in range(processes):
        shard = list(BatchSamplerShard(BatchSampler(sampler, 8, drop_last=False), processes, rank))
        assert shard[0] == buckets[rank]
        # every batch is one bucket, but the last round's: accelerate makes every process take as many
        # batches, topping the short last bucket up, or repeating, from the start of the epoch
        assert all(batch in buckets for batch in shard[:-1])
        last = shard[-1]
        assert last in buckets or set(last) - set(buckets[-1]) <= set(order[: 2 * 8])
        seen += [i for batch in shard for i in batch]
    assert set(seen) == set(range(len(lengths)))
